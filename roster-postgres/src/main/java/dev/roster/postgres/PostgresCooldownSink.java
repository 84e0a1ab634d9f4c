package dev.roster.postgres;

import dev.roster.core.selection.CooldownKind;
import dev.roster.core.selection.CooldownSink;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Objects;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Persists the selector's cooldowns to {@code accounts}, so capture and replay bring them into snapshots.
 * A deadline is only ever raised ({@code GREATEST} in the statement), because reports from several
 * instances may arrive out of order; a statement that changes nothing emits no outbox event. A missing or
 * deleted account is ignored (the cooldown in the shared store still applies).
 */
public final class PostgresCooldownSink implements CooldownSink {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresCooldownSink.class);

    private final DataSource dataSource;

    /** A sink writing through {@code dataSource}. */
    public PostgresCooldownSink(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    @Override
    public void extend(long accountId, CooldownKind kind, Instant until) {
        Objects.requireNonNull(until, "until");
        String column = switch (Objects.requireNonNull(kind, "kind")) {
            case RATE_LIMITED -> "rate_limit_reset_at";
            case OVERLOADED -> "overload_until";
            case TEMP_UNSCHEDULABLE -> "temp_unschedulable_until";
            case MODEL_UNSUPPORTED ->
                // The schema has no per-model deadline: such cooldowns live in the shared store only.
                throw new IllegalArgumentException("a model's cooldown has no column to persist it");
        };
        String sql = "UPDATE accounts SET " + column + " = ?, updated_at = now()"
                + " WHERE id = ? AND deleted_at IS NULL AND (" + column + " IS NULL OR " + column + " < ?)";
        Jdbc.inSourceTransaction(dataSource, "extending " + column + " of account " + accountId, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                Timestamp t = Timestamp.from(until);
                ps.setTimestamp(1, t);
                ps.setLong(2, accountId);
                ps.setTimestamp(3, t);
                return ps.executeUpdate();
            }
        });
    }

    @Override
    public void markError(long accountId, String message) {
        int n = Jdbc.inSourceTransaction(dataSource, "setting error status of account " + accountId, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE accounts SET status = 'error', updated_at = now()"
                    + " WHERE id = ? AND deleted_at IS NULL AND status = 'active'")) {
                ps.setLong(1, accountId);
                return ps.executeUpdate();
            }
        });
        if (n == 1) {
            // The schema has no error-message column; the operator finds the reason here.
            LOG.warn("account {} set to error status: {}", accountId, message);
        }
    }
}
