package dev.roster.postgres;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Roster's key/value state in PostgreSQL ({@code roster_state}), e.g. a durable copy of the outbox
 * watermark or settings that shape snapshots.
 */
public final class StateRepository {
    /** Key of the durable watermark copy. */
    public static final String OUTBOX_WATERMARK = "outbox.watermark";

    private final DataSource dataSource;

    public StateRepository(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** The value of {@code key}, if set. */
    public Optional<String> get(String key) {
        return Jdbc.inTransaction(dataSource, "reading state '" + key + "'", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT value FROM roster_state WHERE key = ?")) {
                ps.setString(1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
                }
            }
        });
    }

    /** Sets {@code key} to {@code value}. */
    public void put(String key, String value) {
        Objects.requireNonNull(value, "value");
        Jdbc.runInTransaction(dataSource, "writing state '" + key + "'", c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO roster_state (key, value) VALUES (?, ?)"
                    + " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()")) {
                ps.setString(1, key);
                ps.setString(2, value);
                ps.executeUpdate();
            }
        });
    }

    /** Raises the stored watermark to {@code watermark}; never lowers it. Returns the stored value. */
    public long advanceWatermark(long watermark) {
        return Jdbc.inTransaction(dataSource, "advancing the stored watermark", c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO roster_state (key, value) VALUES (?, ?)"
                    + " ON CONFLICT (key) DO UPDATE SET value = greatest(roster_state.value::numeric,"
                    + " EXCLUDED.value::numeric)::text, updated_at = now() RETURNING value")) {
                ps.setString(1, OUTBOX_WATERMARK);
                ps.setString(2, Long.toUnsignedString(watermark));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return Long.parseUnsignedLong(rs.getString(1));
                }
            }
        });
    }
}
