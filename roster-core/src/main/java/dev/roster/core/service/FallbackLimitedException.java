package dev.roster.core.service;

/**
 * The projection had no answer and this instance already made {@code db_fallback_max_qps} database
 * fallback queries in the current second; the seed's {@code ErrSchedulerFallbackLimited}. HTTP 429
 * {@code fallback_limited}, retry after a second.
 */
public final class FallbackLimitedException extends SchedulerException {
    /** Creates the error naming the request and the limit. */
    public FallbackLimitedException(String what, int maxQps) {
        super("scheduler db fallback limited for " + what + " (db_fallback_max_qps = " + maxQps + ")", null);
    }
}
