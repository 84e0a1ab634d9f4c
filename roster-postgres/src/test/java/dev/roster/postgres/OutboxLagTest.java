package dev.roster.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.outbox.OutboxCursor;
import dev.roster.core.outbox.OutboxEvent;
import dev.roster.core.outbox.OutboxStats;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the lag figure means while a backlog drains: the age of the oldest event the cursor has not
 * delivered yet, never of one it already applied. The rows carry creation times chosen by the test
 * (one writer second apart), so the expected figure comes from the test's own list, not from the
 * statistics query.
 */
class OutboxLagTest {
    static PgFixture pg;
    static PostgresOutbox outbox;

    @BeforeAll
    static void setUp() {
        pg = PgFixture.migrated("outbox_lag");
        outbox = new PostgresOutbox(pg.ds);
    }

    @AfterAll
    static void tearDown() {
        pg.close();
    }

    /** Inserts one row per transaction, written {@code spacing} apart from {@code first}; id → created_at. */
    private static Map<Long, Instant> write(int rows, Instant first, Duration spacing, int perTransaction)
            throws Exception {
        Map<Long, Instant> written = new LinkedHashMap<>();
        try (Connection c = pg.bare();
                PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO scheduler_outbox (event_type, created_at) VALUES ('lag_probe', ?) RETURNING id")) {
            c.setAutoCommit(false);
            for (int i = 0; i < rows; i++) {
                Instant at = first.plus(spacing.multipliedBy(i));
                ps.setTimestamp(1, Timestamp.from(at));
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    written.put(rs.getLong(1), at);
                }
                if ((i + 1) % perTransaction == 0) {
                    c.commit();
                }
            }
            c.commit();
        }
        return written;
    }

    private static void drainAll(OutboxCursor cursor) {
        OutboxCursor.Batch b;
        do {
            b = cursor.next();
            cursor.acknowledge(b);
        } while (!b.isEmpty());
    }

    @Test
    void fifoDrain_lagIsTheAgeOfTheOldestUndeliveredRow_andFallsWithEveryBatch() throws Exception {
        OutboxCursor cursor = new OutboxCursor(outbox, 0, 10_000, 7);
        drainAll(cursor);
        // 60 rows of a writer at one row per second, three rows per transaction, ending a minute ago.
        Instant first = Instant.now().minus(Duration.ofMinutes(2)).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        Map<Long, Instant> written = write(60, first, Duration.ofSeconds(1), 3);
        Map<Long, Instant> undelivered = new LinkedHashMap<>(written);

        OutboxStats before = cursor.stats();
        assertThat(before.pending()).isEqualTo(60);
        assertThat(before.oldestPendingAt()).isEqualTo(first);

        List<Duration> lags = new ArrayList<>();
        while (!undelivered.isEmpty()) {
            OutboxCursor.Batch b = cursor.next();
            assertThat(b.isEmpty())
                    .as("rows still undelivered: %s", undelivered.keySet())
                    .isFalse();
            cursor.acknowledge(b);
            for (OutboxEvent e : b.events()) {
                undelivered.remove(e.id());
            }
            OutboxStats s = cursor.stats();
            assertThat(s.pending())
                    .as("pending after a batch: exactly the rows not delivered yet")
                    .isEqualTo(undelivered.size());
            Instant oldest =
                    undelivered.values().stream().min(Instant::compareTo).orElse(null);
            assertThat(s.oldestPendingAt())
                    .as("the oldest pending row is the oldest undelivered one, not an applied one")
                    .isEqualTo(oldest);
            Duration expected = oldest == null ? Duration.ZERO : Duration.between(oldest, s.databaseNow());
            assertThat(s.lag()).isEqualTo(expected);
            lags.add(s.lag());
        }
        // Draining faster than the writer wrote (7 rows per batch, here in well under 7 s): the lag falls
        // with every batch. It only grows while a batch covers less writer time than it takes to apply.
        for (int i = 1; i < lags.size(); i++) {
            assertThat(lags.get(i)).as("lag after batch %d", i).isLessThan(lags.get(i - 1));
        }
        assertThat(lags.getLast()).isEqualTo(Duration.ZERO);
    }

    @Test
    void pinnedHorizon_rowsAppliedAboveTheWatermarkAreNotPending_theLateOneIsOnceItCommits() throws Exception {
        OutboxCursor cursor = new OutboxCursor(outbox, 0, 10_000, 4);
        drainAll(cursor);
        Instant first = Instant.now().minus(Duration.ofMinutes(5)).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        try (Connection late = pg.bare()) {
            late.setAutoCommit(false);
            try (PreparedStatement ps = late.prepareStatement(
                    "INSERT INTO scheduler_outbox (event_type, created_at) VALUES ('lag_late', ?)")) {
                ps.setTimestamp(1, Timestamp.from(first));
                ps.executeUpdate();
            }
            // Ten rows of later transactions commit while the early one stays open: the horizon is pinned.
            write(10, first.plusSeconds(10), Duration.ofSeconds(1), 1);
            drainAll(cursor);
            OutboxStats pinned = cursor.stats();
            assertThat(pinned.watermark()).isLessThanOrEqualTo(pinned.horizon());
            assertThat(pinned.pending()).isZero();
            assertThat(pinned.lag()).isEqualTo(Duration.ZERO);

            late.commit();
        }
        OutboxStats visible = cursor.stats();
        assertThat(visible.pending()).isEqualTo(1);
        assertThat(visible.oldestPendingAt()).isEqualTo(first);
        drainAll(cursor);
        OutboxStats done = cursor.stats();
        assertThat(done.pending()).isZero();
        assertThat(done.lag()).isEqualTo(Duration.ZERO);
        try (Connection c = pg.bare();
                Statement st = c.createStatement()) {
            st.execute("DELETE FROM scheduler_outbox WHERE event_type IN ('lag_probe', 'lag_late')");
        }
    }
}
