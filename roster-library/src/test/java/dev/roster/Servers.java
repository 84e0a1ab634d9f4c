package dev.roster;

import com.zaxxer.hikari.HikariDataSource;
import dev.roster.core.config.NearCacheConfig;
import dev.roster.core.config.ProjectionConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.postgres.Databases;
import dev.roster.postgres.Migrator;
import dev.roster.testkit.PostgresHarness;
import dev.roster.testkit.PostgresHarness.TestDatabase;
import dev.roster.testkit.RedisHarness;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Real PostgreSQL (a database of its own) and Redis (a key prefix of its own) for one test class. */
final class Servers {
    /** Quick checks and short leases, so tests see healing and take-overs within seconds. */
    static final ServiceConfig CONFIG = ServiceConfig.DEFAULTS
            .withProjection(new ProjectionConfig(Duration.ofSeconds(3), Duration.ofMillis(500), Duration.ofSeconds(60)))
            .withNearCache(NearCacheConfig.DEFAULTS.withTiming(Duration.ofSeconds(5), Duration.ofMillis(200)));

    final TestDatabase db;
    final String prefix;

    Servers(Class<?> testClass, String hint) {
        db = PostgresHarness.shared().newDatabase(hint);
        prefix = RedisHarness.shared().keyPrefix(testClass) + hint + ":";
        // The schema first, so a test can load rows before its Roster starts (which migrates too: a no-op).
        try (HikariDataSource ds = Databases.pool(db.jdbcUrl(), db.user(), db.password(), 2)) {
            new Migrator(ds).migrate();
        }
    }

    Roster.Builder roster() {
        return Roster.builder()
                .jdbc(db.jdbcUrl(), db.user(), db.password())
                .poolSize(4)
                .redisUri(RedisHarness.shared().uri())
                .keyPrefix(prefix)
                .config(CONFIG);
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

    List<Long> ids(String query) {
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(query)) {
            List<Long> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** {@code n} active openai accounts named a1..an (priority 50, ids in insertion order). */
    void openaiAccounts(int n) {
        sql("INSERT INTO accounts (name, platform, type) SELECT 'a' || g, 'openai', 'apikey'"
                + " FROM generate_series(1, " + n + ") g");
    }

    /** The ids the bucket query gives for group 0 / openai, straight from PostgreSQL. */
    List<Long> openaiIds() {
        return ids("SELECT id FROM accounts WHERE platform = 'openai' AND status = 'active' AND schedulable"
                + " AND deleted_at IS NULL ORDER BY priority, id");
    }
}
