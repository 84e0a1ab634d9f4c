package dev.roster.postgres;

import dev.roster.core.source.SourceDefectException;
import dev.roster.core.source.SourceException;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * The one place that turns driver exceptions into Roster's, by SQLState.
 *
 * <p>{@link #classify} is for Roster's own statements (reads, replay, sinks): an outage ({@link
 * SourceException}: connection, resources, operator intervention, serialization or deadlock, lock
 * timeout, a driver or pool error without SQLState, and any state not known to be a defect) or a
 * defect ({@link SourceDefectException}: the statement itself is refused, so retrying cannot help).
 * Unknown states count as outages on purpose: a defect dead-letters events, an outage only retries.
 *
 * <p>{@link #translate} is for writes of a caller's input (repositories): constraint and data errors
 * become {@link IllegalArgumentException}s whose message is the violated rule in words (except a
 * violation by the outbox row a capture trigger writes: not the caller's fault); the rest is
 * classified.
 *
 * <p>Neither echoes the server's detail ("Failing row contains ...", "Key (x)=(...)"), which quotes row
 * values and rows hold credentials: a classified exception names the operation, the SQLState, its class
 * in words and schema identifiers only, and its cause is a copy of the driver exception without the
 * server's text.
 */
final class PgErrors {
    private static final String OUTBOX = "scheduler_outbox";

    /** Classes retrying may fix: the server or the path to it, not the statement. */
    private static final Set<String> OUTAGE_CLASSES = Set.of("08", "53", "57", "40", "58", "25", "28", "3D");

    /** Classes (or states) where the statement itself is refused and will be refused again. */
    private static final Set<String> DEFECT_CLASSES =
            Set.of("42", "23", "22", "2B", "0A", "39", "XX", "21", "27", "2F", "38", "44", "P0", "09", "20", "3F");

    private static final Map<String, String> CLASS_WORDS = Map.ofEntries(
            Map.entry("08", "connection exception"),
            Map.entry("53", "insufficient resources"),
            Map.entry("57", "operator intervention"),
            Map.entry("40", "transaction rollback"),
            Map.entry("58", "system error"),
            Map.entry("25", "invalid transaction state"),
            Map.entry("28", "invalid authorization"),
            Map.entry("3D", "invalid catalog name"),
            Map.entry("55", "object not in prerequisite state"),
            Map.entry("42", "syntax error or access rule violation"),
            Map.entry("23", "integrity constraint violation"),
            Map.entry("22", "data exception"),
            Map.entry("2B", "dependent privilege descriptors still exist"),
            Map.entry("0A", "feature not supported"),
            Map.entry("39", "external routine invocation exception"),
            Map.entry("XX", "internal error"),
            Map.entry("21", "cardinality violation"),
            Map.entry("27", "triggered data change violation"),
            Map.entry("2F", "SQL routine exception"),
            Map.entry("38", "external routine exception"),
            Map.entry("44", "with check option violation"),
            Map.entry("P0", "PL/pgSQL error"),
            Map.entry("09", "triggered action exception"),
            Map.entry("20", "case not found"),
            Map.entry("3F", "invalid schema name"));

    private PgErrors() {}

    /**
     * Whether retrying may fix a statement refused with {@code sqlState}; {@code null} (a driver or pool
     * error: closed pool, connection timeout) is an outage.
     */
    static boolean isOutage(String sqlState) {
        if (sqlState == null || sqlState.length() != 5) {
            return true;
        }
        if (sqlState.equals("55P03")) { // lock not available (lock_timeout)
            return true;
        }
        if (sqlState.equals("42501")) { // insufficient privilege: a grant an operator restores, not a bug
            return true;
        }
        String cls = sqlState.substring(0, 2);
        return OUTAGE_CLASSES.contains(cls) || !DEFECT_CLASSES.contains(cls);
    }

    /**
     * {@code e} as a {@link SourceException} (outage) or a {@link SourceDefectException} (defect), with
     * a message naming {@code operation} and the SQLState but no row data.
     */
    static RuntimeException classify(SQLException e, String operation) {
        String state = e.getSQLState();
        ServerErrorMessage server = e instanceof PSQLException p ? p.getServerErrorMessage() : null;
        boolean outage = isOutage(state);
        String message = operation + " failed: " + describe(e, state, server, outage);
        Throwable cause = server == null && (state == null || outage) ? e : withoutServerText(e, message);
        return outage ? new SourceException(message, cause) : new SourceDefectException(message, cause);
    }

    private static String describe(SQLException e, String state, @Nullable ServerErrorMessage server, boolean outage) {
        if (state == null) {
            // A driver or pool condition (closed pool, connection timeout): its text is the client's own.
            return String.valueOf(e.getMessage());
        }
        StringBuilder out = new StringBuilder("SQLState ").append(state);
        String words = CLASS_WORDS.get(state.length() >= 2 ? state.substring(0, 2) : state);
        if (words != null) {
            out.append(" (").append(words).append(')');
        }
        if (server == null) {
            if (outage && e.getMessage() != null) {
                // Client-side connection trouble ("An I/O error occurred ..."): no server text in it.
                out.append(": ").append(e.getMessage());
            }
            return out.toString();
        }
        if (state.startsWith("42") && server.getMessage() != null) {
            // Undefined or misspelt names: the primary message quotes our statement's identifiers only.
            out.append(": ").append(server.getMessage());
        }
        identifier(out, "constraint", server.getConstraint());
        identifier(out, "table", server.getTable());
        identifier(out, "column", server.getColumn());
        identifier(out, "type", server.getDatatype());
        return out.toString();
    }

    private static void identifier(StringBuilder out, String what, String name) {
        if (name != null && !name.isEmpty()) {
            out.append(", ").append(what).append(' ').append(name);
        }
    }

    /** A stand-in cause with the driver exception's state and stack but none of the server's text. */
    private static SQLException withoutServerText(SQLException e, String message) {
        SQLException copy = new SQLException(message, e.getSQLState(), e.getErrorCode());
        copy.setStackTrace(e.getStackTrace());
        return copy;
    }

    static RuntimeException translate(SQLException e, String action) {
        String state = e.getSQLState();
        ServerErrorMessage server = e instanceof PSQLException p ? p.getServerErrorMessage() : null;
        String constraint = server == null ? null : server.getConstraint();
        String primary = server != null && server.getMessage() != null ? server.getMessage() : e.getMessage();
        if (state != null && state.startsWith("23") && server != null && OUTBOX.equals(server.getTable())) {
            // The capture trigger's outbox row was refused (upstream OP-14, docs/upstream.md): the caller's input is
            // not at fault, the change was rolled back with it, and the outbox needs an operator.
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
                    if (state.startsWith("22") || state.startsWith("23")) {
                        // Any other data or integrity error of a caller's write is the input's fault
                        // (a NUL in a text, say); its server text may quote the value, so only the
                        // state and schema identifiers are named.
                        StringBuilder out = new StringBuilder(action)
                                .append(": invalid value (SQLState ")
                                .append(state)
                                .append(", ")
                                .append(CLASS_WORDS.get(state.substring(0, 2)))
                                .append(')');
                        if (server != null) {
                            identifier(out, "constraint", server.getConstraint());
                            identifier(out, "column", server.getColumn());
                        }
                        return new IllegalArgumentException(out.toString());
                    }
                    break;
            }
        }
        return classify(e, action);
    }

    /** Our constraint names are sentences: {@code account_priority_must_not_be_negative}. */
    private static @Nullable String words(@Nullable String constraint, @Nullable String fallback) {
        if (constraint == null || constraint.isEmpty()) {
            return fallback;
        }
        return constraint.replace('_', ' ').toLowerCase(Locale.ROOT);
    }

    /** Foreign-key details name only key columns and values, which are ids. */
    private static String detailSafe(@Nullable ServerErrorMessage server) {
        return server == null || server.getDetail() == null ? "" : server.getDetail();
    }
}
