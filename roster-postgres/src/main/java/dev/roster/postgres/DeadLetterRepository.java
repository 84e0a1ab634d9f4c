package dev.roster.postgres;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * Outbox events that could not be applied, with their error and attempt count. Recording the same
 * event again updates its error, attempts and last failure time.
 */
public final class DeadLetterRepository {
    private final DataSource dataSource;

    public DeadLetterRepository(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * A dead-lettered event.
     *
     * @param eventId the outbox row id
     * @param eventType its type
     * @param accountId its account column, or {@code null}
     * @param groupId its group column, or {@code null}
     * @param payload its payload text, or {@code null}
     * @param error why it failed
     * @param attempts how often it was tried
     * @param eventCreatedAt when the event was written, or {@code null}
     * @param firstFailedAt first recording (database clock; ignored by {@link #record})
     * @param lastFailedAt latest recording (database clock; ignored by {@link #record})
     */
    public record DeadLetter(
            long eventId,
            String eventType,
            @Nullable Long accountId,
            @Nullable Long groupId,
            @Nullable String payload,
            String error,
            int attempts,
            @Nullable Instant eventCreatedAt,
            @Nullable Instant firstFailedAt,
            @Nullable Instant lastFailedAt) {}

    /**
     * Records (or updates) a dead letter. A failure is Roster's, not a caller's: {@link
     * dev.roster.core.source.SourceException} (outage) or {@link
     * dev.roster.core.source.SourceDefectException}, never quoting the row.
     */
    public void record(DeadLetter d) {
        String sql = "INSERT INTO scheduler_outbox_dead_letter (event_id, event_type, account_id, group_id, payload,"
                + " error, attempts, event_created_at) VALUES (?, ?, ?, ?, ?::jsonb, ?, ?, ?)"
                + " ON CONFLICT (event_id) DO UPDATE SET error = EXCLUDED.error, attempts = EXCLUDED.attempts,"
                + " last_failed_at = now()";
        Jdbc.runInSourceTransaction(dataSource, "dead-lettering outbox event " + d.eventId(), c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, d.eventId());
                ps.setString(2, d.eventType());
                ps.setObject(3, d.accountId());
                ps.setObject(4, d.groupId());
                ps.setString(5, d.payload());
                ps.setString(6, d.error());
                ps.setInt(7, d.attempts());
                ps.setTimestamp(8, d.eventCreatedAt() == null ? null : Timestamp.from(d.eventCreatedAt()));
                ps.executeUpdate();
            }
        });
    }

    /** Dead letters, oldest first, at most {@code limit}. */
    public List<DeadLetter> list(int limit) {
        String sql =
                "SELECT event_id, event_type, account_id, group_id, payload::text, error, attempts, event_created_at,"
                        + " first_failed_at, last_failed_at FROM scheduler_outbox_dead_letter ORDER BY id LIMIT ?";
        return Jdbc.inTransaction(dataSource, "listing dead letters", c -> {
            List<DeadLetter> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setInt(1, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new DeadLetter(
                                rs.getLong(1),
                                rs.getString(2),
                                (Long) rs.getObject(3),
                                (Long) rs.getObject(4),
                                rs.getString(5),
                                rs.getString(6),
                                rs.getInt(7),
                                instant(rs.getTimestamp(8)),
                                instant(rs.getTimestamp(9)),
                                instant(rs.getTimestamp(10))));
                    }
                }
            }
            return out;
        });
    }

    /** How many dead letters the table holds. */
    public long count() {
        return Jdbc.inSourceTransaction(dataSource, "counting dead letters", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM scheduler_outbox_dead_letter");
                    ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /** Removes the dead letter of {@code eventId} (after a successful retry); {@code false} if none. */
    public boolean remove(long eventId) {
        return Jdbc.inTransaction(dataSource, "removing dead letter " + eventId, c -> {
            try (PreparedStatement ps =
                    c.prepareStatement("DELETE FROM scheduler_outbox_dead_letter WHERE event_id = ?")) {
                ps.setLong(1, eventId);
                return ps.executeUpdate() > 0;
            }
        });
    }

    private static @Nullable Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
