package dev.roster.postgres;

import dev.roster.core.source.SourceException;
import java.sql.SQLException;
import java.util.Locale;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Turns driver exceptions into Roster's: constraint violations become {@link
 * IllegalArgumentException}s whose message is the violated rule in words (except a violation by the
 * outbox row a capture trigger writes: not the caller's fault), anything else a {@link
 * SourceException}. Only the server's primary message is used: its detail ("Failing row contains
 * ...") may hold credentials and must not reach logs.
 */
final class PgErrors {
    private static final String OUTBOX = "scheduler_outbox";

    private PgErrors() {}

    static RuntimeException translate(SQLException e, String action) {
        String state = e.getSQLState();
        ServerErrorMessage server = e instanceof PSQLException p ? p.getServerErrorMessage() : null;
        String constraint = server == null ? null : server.getConstraint();
        String primary = server != null && server.getMessage() != null ? server.getMessage() : e.getMessage();
        if (state != null && state.startsWith("23") && server != null && OUTBOX.equals(server.getTable())) {
            // The capture trigger's outbox row was refused (OP-14): the caller's input is not at fault,
            // the change was rolled back with it, and the outbox needs an operator.
            return new SourceException(
                    action + " failed: the change was rolled back because " + OUTBOX + " refused its event ("
                            + words(constraint, primary) + ")",
                    e);
        }
        if (state != null) {
            switch (state) {
                case "23514", "23P01": // check, exclusion
                    return new IllegalArgumentException(action + ": " + words(constraint, primary));
                case "23503": // foreign key
                    return new IllegalArgumentException(
                            action + ": " + words(constraint, primary) + " (" + detailSafe(server) + ")");
                case "23505": // unique
                    return new IllegalArgumentException(action + ": duplicate (" + words(constraint, primary) + ")");
                case "23502": // not null
                    return new IllegalArgumentException(action + ": "
                            + (server != null && server.getColumn() != null
                                    ? server.getColumn() + " must not be null"
                                    : primary));
                case "22P02", "22007", "22008", "22003": // bad text representation, datetime, range
                    return new IllegalArgumentException(action + ": " + primary);
                default:
                    break;
            }
        }
        return new SourceException(action + " failed: " + (state == null ? "" : "[" + state + "] ") + primary, e);
    }

    /** Our constraint names are sentences: {@code account_priority_must_not_be_negative}. */
    private static String words(String constraint, String fallback) {
        if (constraint == null || constraint.isEmpty()) {
            return fallback;
        }
        return constraint.replace('_', ' ').toLowerCase(Locale.ROOT);
    }

    /** Foreign-key details name only key columns and values, which are ids. */
    private static String detailSafe(ServerErrorMessage server) {
        return server == null || server.getDetail() == null ? "" : server.getDetail();
    }
}
