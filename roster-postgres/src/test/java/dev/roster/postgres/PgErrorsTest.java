package dev.roster.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.roster.core.outbox.OutboxEvent;
import dev.roster.core.selection.CooldownKind;
import dev.roster.core.source.SourceDefectException;
import dev.roster.core.source.SourceException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postgresql.ds.PGSimpleDataSource;
import org.postgresql.util.PSQLException;

/**
 * SQLState classification: outages stay {@link SourceException}s, refused statements become {@link
 * SourceDefectException}s, and no classified exception quotes the server's detail (row values).
 */
class PgErrorsTest {
    static final String SECRET = "sk-live-7f3a9c1e-do-not-log";

    PgFixture pg;

    @BeforeEach
    void setUp() {
        pg = PgFixture.migrated("pg_errors");
    }

    @AfterEach
    void tearDown() {
        pg.close();
    }

    @ParameterizedTest(name = "{0} -> outage {1}")
    @CsvSource({
        "08006, true",
        "08001, true",
        "53300, true",
        "57014, true",
        "57P01, true",
        "40001, true",
        "40P01, true",
        "55P03, true",
        "25006, true",
        "28P01, true",
        "42501, true",
        "58030, true",
        "42601, false",
        "42703, false",
        "42P01, false",
        "23505, false",
        "23514, false",
        "22P02, false",
        "2BP01, false",
        "0A000, false",
        "39000, false",
        "XX000, false",
        "XX001, false",
        "P0001, false",
        "55000, true",
        "HV000, true"
    })
    void statesAreSplitIntoOutagesAndDefects(String state, boolean outage) {
        RuntimeException e = PgErrors.classify(new SQLException("server said something", state), "doing x");
        assertThat(e).isInstanceOf(outage ? SourceException.class : SourceDefectException.class);
        assertThat(e.getMessage()).startsWith("doing x failed: SQLState " + state);
    }

    @Test
    void driverAndPoolErrorsWithoutSqlState_areOutages() {
        RuntimeException timeout = PgErrors.classify(
                new SQLTransientConnectionException("roster-pg - Connection is not available"), "reading");
        assertThat(timeout)
                .isInstanceOf(SourceException.class)
                .hasMessage("reading failed: roster-pg - Connection is not available");

        HikariDataSource closed = Databases.pool(pg.db.jdbcUrl(), pg.db.user(), pg.db.password(), 1);
        closed.close();
        assertThatThrownBy(() -> new PostgresSchedulingSource(closed).activeGroups())
                .isExactlyInstanceOf(SourceException.class)
                .hasMessageStartingWith("listing active groups failed: ");
    }

    private static String everything(Throwable t) {
        StringWriter out = new StringWriter();
        t.printStackTrace(new PrintWriter(out));
        return out.toString();
    }

    /** A data source without the pool's detail suppression: the classifier alone must keep rows out. */
    private PGSimpleDataSource plain() {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setUrl(pg.db.jdbcUrl());
        ds.setUser(pg.db.user());
        ds.setPassword(pg.db.password());
        return ds;
    }

    @Test
    void constraintViolationWhoseDetailHoldsACredential_isADefectThatNeverQuotesIt() throws Exception {
        long a = pg.account("secretive", "openai");
        pg.sql(
                "UPDATE accounts SET credentials = '{\"access_token\":\"" + SECRET + "\"}' WHERE id = " + a,
                "ALTER TABLE accounts ADD CONSTRAINT reset_before_2100"
                        + " CHECK (rate_limit_reset_at IS NULL OR rate_limit_reset_at < '2100-01-01')");
        Instant far = Instant.parse("2200-01-01T00:00:00Z");
        // The server's own report does quote the row, credentials included.
        try (Connection c = pg.bare();
                PreparedStatement ps = c.prepareStatement("UPDATE accounts SET rate_limit_reset_at = ? WHERE id = ?")) {
            ps.setTimestamp(1, Timestamp.from(far));
            ps.setLong(2, a);
            assertThatThrownBy(ps::executeUpdate)
                    .isInstanceOf(PSQLException.class)
                    .satisfies(e -> assertThat(
                                    ((PSQLException) e).getServerErrorMessage().getDetail())
                            .contains(SECRET));
        }

        PostgresCooldownSink sink = new PostgresCooldownSink(plain());

        assertThatThrownBy(() -> sink.extend(a, CooldownKind.RATE_LIMITED, far))
                .isExactlyInstanceOf(SourceDefectException.class)
                .hasMessageContaining("extending rate_limit_reset_at of account " + a)
                .hasMessageContaining("SQLState 23514")
                .hasMessageContaining("reset_before_2100")
                .satisfies(e -> assertThat(everything(e)).doesNotContain(SECRET).doesNotContain("Failing row"));
    }

    @Test
    void deadLetterRefusedByItsTable_isADefectThatNeverQuotesThePayload() {
        PostgresDeadLetterSink sink = new PostgresDeadLetterSink(new DeadLetterRepository(plain()));
        OutboxEvent malformed = new OutboxEvent.Malformed(
                1, 1, Instant.now(), "account_changed", "bad", "{\"credentials\":\"" + SECRET + "\"}");

        assertThatThrownBy(() -> sink.deadLetter(malformed, "boom", 0))
                .isExactlyInstanceOf(SourceDefectException.class)
                .hasMessageContaining("SQLState 23514")
                .hasMessageContaining("dead_letter_attempts_must_be_positive")
                .satisfies(e -> assertThat(everything(e)).doesNotContain(SECRET));
    }

    @Test
    void undefinedColumn_isADefectNamingIt() {
        pg.sql("ALTER TABLE groups RENAME COLUMN status TO state");
        assertThatThrownBy(() -> new PostgresSchedulingSource(pg.ds).activeGroups())
                .isExactlyInstanceOf(SourceDefectException.class)
                .hasMessageStartingWith("listing active groups failed: SQLState 42703")
                .hasMessageContaining("status");
    }

    @Test
    void lockTimeout_isAnOutage() throws Exception {
        pg.sql("ALTER DATABASE \"" + pg.db.name() + "\" SET lock_timeout = '200ms'");
        pg.account("locked-out", "openai");
        try (HikariDataSource fresh = Databases.pool(pg.db.jdbcUrl(), pg.db.user(), pg.db.password(), 2);
                Connection holder = pg.bare()) {
            holder.setAutoCommit(false);
            try (Statement st = holder.createStatement()) {
                st.execute("SET lock_timeout = 0");
                st.execute("LOCK TABLE account_groups IN ACCESS EXCLUSIVE MODE");
            }
            CompletableFuture<?> read = CompletableFuture.runAsync(
                    () -> new PostgresSchedulingSource(fresh).readBatch(0, Set.of(), null, 100));
            await().atMost(Duration.ofSeconds(20)).until(read::isDone);
            assertThatThrownBy(() -> read.get(1, TimeUnit.SECONDS))
                    .cause()
                    .isExactlyInstanceOf(SourceException.class)
                    .hasMessageStartingWith("reading an outbox batch and its rows failed: SQLState 55P03");
            holder.rollback();
        }
    }
}
