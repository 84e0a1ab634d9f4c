package dev.roster.postgres;

import dev.roster.core.outbox.CursorState;
import dev.roster.core.outbox.OutboxEvent;
import dev.roster.core.outbox.OutboxPosition;
import dev.roster.core.outbox.OutboxRead;
import dev.roster.core.outbox.OutboxSource;
import dev.roster.core.outbox.OutboxStats;
import dev.roster.core.outbox.RetentionResult;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * The outbox reader over PostgreSQL (docs/architecture.md, "Reading the outbox without skips"). Each read is one
 * statement, so the horizon and the events come from one snapshot. Rows are decoded by {@link OutboxEventDecoder}; a
 * malformed row is returned as such, never thrown.
 */
public final class PostgresOutbox implements OutboxSource {
    /** Advisory lock key of the retention pass ("roster" + 1), shared by every instance. */
    public static final long RETENTION_LOCK_KEY = 0x726F7374657201L;

    private static final String READ_HEAD =
            "SELECT h.horizon, h.db_now, o.id, o.txid::text, o.event_type, o.account_id,"
                    + " o.group_id, o.payload::text, o.created_at, h.snap"
                    + " FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon, now() AS db_now,"
                    + " pg_current_snapshot()::text AS snap) h"
                    + " LEFT JOIN LATERAL (SELECT * FROM scheduler_outbox o"
                    + " WHERE o.txid >= ?::text::xid8 AND NOT (o.id = ANY (?))";
    private static final String READ_TAIL = " ORDER BY o.txid, o.id LIMIT ?) o ON true ORDER BY o.txid, o.id";
    private static final String READ = READ_HEAD + READ_TAIL;
    private static final String READ_AFTER = READ_HEAD + " AND (o.txid, o.id) > (?::text::xid8, ?)" + READ_TAIL;

    private static final String STATS =
            "WITH p AS (SELECT count(*) AS n, min(created_at) AS oldest FROM scheduler_outbox"
                    + "   WHERE txid >= ?::text::xid8 AND NOT (id = ANY (?))"
                    // What the replayer's overflow sweeps delivered without remembering the ids:
                    // every event visible at the start of the last completed sweep, and those the
                    // sweep in progress passed that were visible at its start.
                    + "   AND NOT coalesce(pg_visible_in_snapshot(txid, ?::text::pg_snapshot), false)"
                    + "   AND NOT coalesce(pg_visible_in_snapshot(txid, ?::text::pg_snapshot)"
                    + "     AND (txid, id) <= (?::text::xid8, ?::bigint), false)),"
                    + " holder AS (SELECT pid, xact_start FROM pg_stat_activity"
                    + "   WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
                    + "   ORDER BY age(backend_xid) DESC LIMIT 1)"
                    + " SELECT p.n, p.oldest, now(), pg_snapshot_xmin(pg_current_snapshot())::text, holder.pid, holder.xact_start"
                    + " FROM p LEFT JOIN holder ON true";

    private static final String DELETE_BATCH =
            "DELETE FROM scheduler_outbox WHERE id IN (SELECT id FROM scheduler_outbox"
                    + " WHERE txid < ?::text::xid8 AND created_at < now() - make_interval(secs => ?)"
                    + " ORDER BY txid, id LIMIT ?)";

    private final DataSource dataSource;
    private final OutboxEventDecoder decoder = new OutboxEventDecoder();

    public PostgresOutbox(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    @Override
    public OutboxRead read(long watermark, Set<Long> excludedIds, @Nullable OutboxPosition after, int limit) {
        requireLimit(limit);
        try (Connection c = dataSource.getConnection()) {
            return read(c, watermark, excludedIds, after, limit);
        } catch (SQLException e) {
            throw PgErrors.classify(e, "reading the outbox");
        }
    }

    static void requireLimit(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("outbox read limit must be >= 1, got " + limit);
        }
    }

    /**
     * The read of {@link #read(long, Set, OutboxPosition, int)} as one statement on {@code c}; inside a
     * transaction that already holds a snapshot, the horizon is that snapshot's.
     */
    OutboxRead read(Connection c, long watermark, Set<Long> excludedIds, @Nullable OutboxPosition after, int limit)
            throws SQLException {
        requireLimit(limit);
        try (PreparedStatement ps = c.prepareStatement(after == null ? READ : READ_AFTER)) {
            int i = 1;
            ps.setString(i++, Long.toUnsignedString(watermark));
            ps.setArray(i++, c.createArrayOf("bigint", excludedIds.toArray()));
            if (after != null) {
                ps.setString(i++, Long.toUnsignedString(after.txid()));
                ps.setLong(i++, after.id());
            }
            ps.setInt(i, limit);
            long horizon = 0;
            Instant now = null;
            String snapshot = null;
            List<OutboxEvent> events = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    horizon = Long.parseUnsignedLong(rs.getString(1));
                    now = rs.getTimestamp(2).toInstant();
                    snapshot = rs.getString(10);
                    long id = rs.getLong(3);
                    if (rs.wasNull()) {
                        continue;
                    }
                    events.add(decoder.decode(new OutboxEventDecoder.Row(
                            id,
                            Long.parseUnsignedLong(rs.getString(4)),
                            rs.getString(5),
                            nullableLong(rs, 6),
                            nullableLong(rs, 7),
                            rs.getString(8),
                            rs.getTimestamp(9).toInstant())));
                }
            }
            return new OutboxRead(horizon, Objects.requireNonNull(now, "databaseNow"), events, snapshot);
        }
    }

    @Override
    public OutboxStats stats(long watermark, Set<Long> excludedIds) {
        return stats(new CursorState(watermark, excludedIds));
    }

    @Override
    public OutboxStats stats(CursorState state) {
        long watermark = state.watermark();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(STATS)) {
            ps.setString(1, Long.toUnsignedString(watermark));
            ps.setArray(2, c.createArrayOf("bigint", state.applied().toArray()));
            ps.setString(3, state.coveredSnapshot());
            ps.setString(4, state.sweepSnapshot());
            OutboxPosition after = state.sweepAfter();
            ps.setString(5, after == null ? null : Long.toUnsignedString(after.txid()));
            if (after == null) {
                ps.setNull(6, java.sql.Types.BIGINT);
            } else {
                ps.setLong(6, after.id());
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long pending = rs.getLong(1);
                Instant oldest = instant(rs.getTimestamp(2));
                Instant now = rs.getTimestamp(3).toInstant();
                long horizon = Long.parseUnsignedLong(rs.getString(4));
                int pid = rs.getInt(5);
                Integer holder = rs.wasNull() ? null : pid;
                Instant holderSince = instant(rs.getTimestamp(6));
                Duration lag = oldest == null ? Duration.ZERO : nonNegative(Duration.between(oldest, now));
                Duration age = holderSince == null ? Duration.ZERO : nonNegative(Duration.between(holderSince, now));
                return new OutboxStats(watermark, horizon, pending, oldest, lag, age, holder, now);
            }
        } catch (SQLException e) {
            throw PgErrors.classify(e, "reading outbox statistics");
        }
    }

    @Override
    public RetentionResult deleteApplied(long watermark, Duration retention, int batchSize) {
        Objects.requireNonNull(retention, "retention");
        if (retention.isNegative()) {
            throw new IllegalArgumentException("retention must not be negative, got " + retention);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("retention batch size must be >= 1, got " + batchSize);
        }
        if (watermark <= 0) {
            return new RetentionResult(false, 0, 0);
        }
        // A session-level lock on one connection: the deletes commit batch by batch, so a
        // transaction-scoped lock would not cover the whole pass.
        try (Connection c = dataSource.getConnection()) {
            if (!c.getAutoCommit()) {
                c.setAutoCommit(true);
            }
            if (!tryLock(c)) {
                return new RetentionResult(false, 0, 0);
            }
            long deleted = 0;
            int batches = 0;
            try (PreparedStatement ps = c.prepareStatement(DELETE_BATCH)) {
                ps.setString(1, Long.toUnsignedString(watermark));
                ps.setDouble(2, retention.toNanos() / 1e9);
                ps.setInt(3, batchSize);
                int n;
                do {
                    n = ps.executeUpdate();
                    deleted += n;
                    batches++;
                } while (n == batchSize);
            } finally {
                try (Statement st = c.createStatement()) {
                    st.execute("SELECT pg_advisory_unlock(" + RETENTION_LOCK_KEY + ")");
                }
            }
            return new RetentionResult(true, deleted, batches);
        } catch (SQLException e) {
            throw PgErrors.classify(e, "deleting applied outbox events");
        }
    }

    private static boolean tryLock(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_try_advisory_lock(" + RETENTION_LOCK_KEY + ")")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    private static @Nullable Long nullableLong(ResultSet rs, int col) throws SQLException {
        long v = rs.getLong(col);
        return rs.wasNull() ? null : v;
    }

    private static @Nullable Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }

    private static Duration nonNegative(Duration d) {
        return d.isNegative() ? Duration.ZERO : d;
    }
}
