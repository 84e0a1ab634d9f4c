package dev.roster.server.http;

import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.roster.Roster;
import dev.roster.core.config.NearCacheConfig;
import dev.roster.core.config.ProjectionConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.postgres.Databases;
import dev.roster.postgres.Migrator;
import dev.roster.server.app.BackendSource;
import dev.roster.server.app.LibraryBackend;
import dev.roster.server.config.RosterConfig;
import dev.roster.testkit.PostgresHarness;
import dev.roster.testkit.PostgresHarness.TestDatabase;
import dev.roster.testkit.RedisHarness;
import dev.roster.testkit.TestClock;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real Roster (PostgreSQL and Redis of the test harness, a database and key prefix of its own) behind
 * in-process HTTP servers, on an application clock the test can move forward.
 */
final class WatchFixture implements AutoCloseable {
    static final String TOKEN = "api-token-0123456789abcdef";

    final TestDatabase db;
    /** System time plus an offset the test moves forward (leases and checks keep running as usual). */
    final TestClock clock = TestClock.following();

    final Roster roster;
    private final BackendSource source;
    private final List<HttpServer> servers = new ArrayList<>();

    /** Runs {@code setup} statements before the Roster starts, so their platforms are canonical buckets. */
    WatchFixture(Class<?> testClass, String hint, String... setup) {
        db = PostgresHarness.shared().newDatabase(hint);
        String prefix = RedisHarness.shared().keyPrefix(testClass) + hint + ":";
        try (HikariDataSource ds = Databases.pool(db.jdbcUrl(), db.user(), db.password(), 2)) {
            new Migrator(ds).migrate();
        }
        sql(setup);
        // Leases outlive the application clock's jumps in the tests, so a jump does not hand the replayer
        // lease over (and rebuild everything under new versions).
        ServiceConfig config = ServiceConfig.DEFAULTS
                .withProjection(
                        new ProjectionConfig(Duration.ofMinutes(4), Duration.ofMillis(500), Duration.ofSeconds(60)))
                // A check interval (and so a watch tick) longer than the tests' bounds: what they see arrives
                // through the near cache's invalidations and the watch's own boundary timer, not a poll.
                .withNearCache(NearCacheConfig.DEFAULTS.withTiming(Duration.ofSeconds(10), Duration.ofSeconds(8)));
        roster = Roster.builder()
                .jdbc(db.jdbcUrl(), db.user(), db.password())
                .poolSize(4)
                .redisUri(RedisHarness.shared().uri())
                .keyPrefix(prefix)
                .config(config)
                .clock(clock)
                .build();
        await().atMost(Duration.ofSeconds(60)).until(roster::ready);
        LibraryBackend backend = new LibraryBackend(roster);
        source = BackendSource.of(backend);
    }

    /** A started server over the Roster with these watch limits; closed with the fixture. */
    HttpServer server(WatchConfig watch) {
        RosterConfig.Server cfg = new RosterConfig.Server(
                "127.0.0.1", 0, "", TOKEN, false, 64, Duration.ofSeconds(5), 1 << 20, Duration.ofSeconds(2));
        HttpServer s = new HttpServer(cfg, source, new Metrics(source), watch);
        s.start();
        servers.add(s);
        return s;
    }

    void sql(String... statements) {
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    long id(String query) {
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                java.sql.ResultSet rs = st.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        for (HttpServer s : servers) {
            s.stop(Duration.ZERO);
        }
        roster.close();
    }
}
