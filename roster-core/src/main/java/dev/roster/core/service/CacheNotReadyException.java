package dev.roster.core.service;

/**
 * The projection has no answer for the request and the database fallback is disabled ({@code
 * gateway.scheduling.db_fallback_enabled = false}); the seed's {@code ErrSchedulerCacheNotReady}.
 * HTTP 503 {@code not_ready}.
 */
public final class CacheNotReadyException extends SchedulerException {
    /** Creates the error naming what was asked for. */
    public CacheNotReadyException(String what) {
        super("scheduler cache not ready for " + what + " and db_fallback_enabled is false", null);
    }
}
