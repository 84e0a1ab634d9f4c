package dev.roster.it;

import com.zaxxer.hikari.HikariDataSource;
import dev.roster.core.config.ProjectionConfig;
import dev.roster.core.config.ReplayConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.replay.DeadLetterSink;
import dev.roster.core.service.SnapshotService;
import dev.roster.postgres.Databases;
import dev.roster.postgres.DeadLetterRepository;
import dev.roster.postgres.Migrator;
import dev.roster.postgres.PostgresDeadLetterSink;
import dev.roster.postgres.PostgresSchedulingSource;
import dev.roster.redis.RedisConnectionOptions;
import dev.roster.redis.RedisProjection;
import dev.roster.testkit.PostgresHarness;
import dev.roster.testkit.PostgresHarness.TestDatabase;
import dev.roster.testkit.RedisHarness;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * Real PostgreSQL and Redis for one test class: a migrated database of its own, a pool, and service
 * instances wired the way a deployment wires them (PostgreSQL source and dead-letter table, Redis
 * projection under a key prefix).
 */
final class ItEnv implements AutoCloseable {
    static final ClientResources RESOURCES = DefaultClientResources.create();

    /** Short leases so a dead holder is replaced quickly; quick retries for failing batches. */
    static final ServiceConfig CONFIG = ServiceConfig.DEFAULTS
            .withProjection(new ProjectionConfig(Duration.ofSeconds(3), Duration.ofMillis(500), Duration.ofSeconds(60)))
            .withReplay(ReplayConfig.DEFAULTS
                    .withBatchSize(50)
                    .withMaxAttempts(2)
                    .withRetryBackoff(Duration.ofMillis(50), Duration.ofMillis(200)));

    final TestDatabase db;
    final HikariDataSource ds;
    final PostgresSchedulingSource source;
    final DeadLetterRepository deadLetters;

    ItEnv(String hint) {
        db = PostgresHarness.shared().newDatabase(hint);
        ds = Databases.pool(db.jdbcUrl(), db.user(), db.password(), 8);
        new Migrator(ds).migrate();
        source = new PostgresSchedulingSource(ds);
        deadLetters = new DeadLetterRepository(ds);
    }

    RedisProjection projection(String prefix) {
        return RedisProjection.connect(
                RedisConnectionOptions.of(RedisHarness.shared().uri()), RESOURCES, prefix, Duration.ofSeconds(60));
    }

    /** The dead-letter table as the replayer's sink. */
    DeadLetterSink sink() {
        return new PostgresDeadLetterSink(deadLetters);
    }

    SnapshotService.Builder service(RedisProjection projection) {
        return SnapshotService.newBuilder()
                .source(source)
                .projection(projection)
                .config(CONFIG)
                .deadLetters(sink());
    }

    /** Empties every table the scheduling pool and the outbox live in, between tests of one class. */
    void truncatePool() {
        sql("TRUNCATE account_groups, accounts, groups, scheduler_outbox, scheduler_outbox_dead_letter");
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

    long queryLong(String sql) {
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        ds.close();
    }
}
