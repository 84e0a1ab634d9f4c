package dev.roster.redis;

import java.util.Set;

/**
 * The one rule both Redis adapters ({@link RedisProjection}, {@link RedisSelectionStore}) apply to an
 * error reply, by its error code (the reply's first word). A code that says the server or the path to
 * it cannot serve now (loading, busy, a failover or cluster reconfiguration, out of memory, a replica
 * refusing writes, authentication or permissions an operator fixes) is an outage: the caller retries
 * or falls back. {@code WRONGTYPE} means the key holds data Roster did not write that way (foreign or
 * damaged). Everything else ({@code ERR}, a script error, a code this rule does not know) is a defect: a
 * bug to report, not something that passes as "unavailable" and is retried forever. Error replies
 * name commands and keys, never the values Roster stores, so the adapters may quote them.
 */
final class RedisErrors {
    /** What an error reply means. */
    enum Kind {
        OUTAGE,
        WRONG_TYPE,
        DEFECT
    }

    private static final Set<String> OUTAGE_CODES = Set.of(
            "LOADING",
            "BUSY",
            "CLUSTERDOWN",
            "MASTERDOWN",
            "TRYAGAIN",
            "READONLY",
            "OOM",
            "NOREPLICAS",
            "MOVED",
            "ASK",
            "NOAUTH",
            "WRONGPASS",
            "NOPERM",
            "MISCONF");

    private RedisErrors() {}

    /** The kind of the error reply {@code message} as the client reports it; {@code null} or empty is a defect. */
    static Kind kind(String message) {
        if (message == null || message.isEmpty()) {
            return Kind.DEFECT;
        }
        int space = message.indexOf(' ');
        String code = space < 0 ? message : message.substring(0, space);
        if (code.equals("WRONGTYPE")) {
            return Kind.WRONG_TYPE;
        }
        return OUTAGE_CODES.contains(code) ? Kind.OUTAGE : Kind.DEFECT;
    }
}
