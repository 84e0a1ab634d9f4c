package dev.roster.bench.e2e;

import com.zaxxer.hikari.HikariDataSource;
import dev.roster.Roster;
import dev.roster.core.config.ServiceConfig;
import dev.roster.embedded.EmbeddedPostgres;
import dev.roster.embedded.EmbeddedRedis;
import dev.roster.postgres.Databases;
import dev.roster.postgres.Migrator;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The embedded default, as {@code roster serve} starts it without a configured store: an embedded
 * PostgreSQL 17 and an embedded Redis 7 on loopback, here with throw-away data (no fsync, no Redis
 * persistence), one pair per scenario so that scenarios do not see each other's rows or keys.
 */
final class Stores implements AutoCloseable {
    final Path dir;
    final EmbeddedPostgres pg;
    final EmbeddedRedis redis;
    final HikariDataSource ds;

    private Stores(Path dir, EmbeddedPostgres pg, EmbeddedRedis redis, HikariDataSource ds) {
        this.dir = dir;
        this.pg = pg;
        this.redis = redis;
        this.ds = ds;
    }

    static Stores start(String name) {
        try {
            Path dir = Files.createTempDirectory("roster-bench-" + name + "-");
            EmbeddedPostgres pg = EmbeddedPostgres.builder(dir.resolve("pg"))
                    .ephemeral()
                    .build()
                    .start();
            EmbeddedRedis redis = EmbeddedRedis.builder()
                    .dataDir(dir.resolve("redis"))
                    .persistent(false)
                    .build();
            redis.start();
            HikariDataSource ds = Databases.pool(pg.jdbcUrl("postgres"), pg.user(), "", 4);
            new Migrator(ds).migrate();
            Stores stores = new Stores(dir, pg, redis, ds);
            if (observed == null) {
                observed = stores.describe();
            }
            return stores;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static volatile String observed;

    /** What the first pair started in this JVM reported about itself, or null before one started. */
    static String observed() {
        return observed;
    }

    /** Versions and durability settings as the servers report them (not as configured here). */
    String describe() {
        String pgPart;
        try (Connection c = connect();
                Statement st = c.createStatement();
                var rs = st.executeQuery("SELECT current_setting('server_version'), current_setting('fsync'),"
                        + " current_setting('synchronous_commit')")) {
            rs.next();
            pgPart = "PostgreSQL " + rs.getString(1) + " (fsync " + rs.getString(2) + ", synchronous_commit "
                    + rs.getString(3) + ")";
        } catch (SQLException e) {
            pgPart = "PostgreSQL (settings not readable: " + e.getMessage() + ")";
        }
        RedisClient client = RedisClient.create(redis.uri());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            String version = infoField(c.sync().info("server"), "redis_version");
            String aof = infoField(c.sync().info("persistence"), "aof_enabled");
            var save = c.sync().configGet("save");
            String rdb = save.getOrDefault("save", "");
            return pgPart + ", Redis " + version + " (appendonly " + ("1".equals(aof) ? "on" : "off") + ", save "
                    + (rdb.isBlank() ? "off" : "'" + rdb + "'") + ")";
        } finally {
            client.shutdown(0, 1, TimeUnit.SECONDS);
        }
    }

    private static String infoField(String info, String field) {
        for (String line : info.split("\r?\n")) {
            if (line.startsWith(field + ":")) {
                return line.substring(field.length() + 1).trim();
            }
        }
        return "?";
    }

    String jdbcUrl() {
        return pg.jdbcUrl("postgres");
    }

    Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl(), pg.user(), "");
    }

    void sql(String... statements) {
        try (Connection c = connect();
                Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    long scalar(String sql) {
        try (Connection c = connect();
                Statement st = c.createStatement();
                var rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    Roster.Builder roster(ServiceConfig config) {
        return Roster.builder()
                .jdbc(jdbcUrl(), pg.user(), "")
                .redisUri(redis.uri())
                .keyPrefix("bench:")
                .config(config);
    }

    /** {@code INFO memory} field {@code used_memory} of the embedded Redis, in bytes. */
    long redisUsedMemory() {
        RedisClient client = RedisClient.create(redis.uri());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            for (String line : c.sync().info("memory").split("\r?\n")) {
                if (line.startsWith("used_memory:")) {
                    return Long.parseLong(
                            line.substring("used_memory:".length()).trim());
                }
            }
            return -1;
        } finally {
            client.shutdown(0, 1, TimeUnit.SECONDS);
        }
    }

    /**
     * {@code INFO stats} field {@code total_net_output_bytes} of the embedded Redis: every byte it sent
     * to any client since it started (this call's own reply is counted by the next call).
     */
    long redisNetOutputBytes() {
        RedisClient client = RedisClient.create(redis.uri());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            return Long.parseLong(infoField(c.sync().info("stats"), "total_net_output_bytes"));
        } finally {
            client.shutdown(0, 1, TimeUnit.SECONDS);
        }
    }

    /** Waits (polling, bench code only) until {@code condition} holds or {@code seconds} pass. */
    static boolean await(BooleanSupplier condition, double seconds) {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < deadline) {
            try {
                if (condition.getAsBoolean()) {
                    return true;
                }
            } catch (RuntimeException notYet) {
                // not yet (a store may be restarting)
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        return false;
    }

    @Override
    public void close() {
        ds.close();
        redis.kill();
        pg.kill();
    }
}
