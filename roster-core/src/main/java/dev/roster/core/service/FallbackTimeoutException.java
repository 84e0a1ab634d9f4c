package dev.roster.core.service;

import java.time.Duration;

/**
 * The database fallback did not answer within {@code db_fallback_timeout_seconds}, capped by the
 * caller's deadline. The query may still complete in the background and publish its result. HTTP 503
 * {@code store_unavailable}.
 */
public final class FallbackTimeoutException extends SchedulerException {
    private final Duration waited;

    /** Creates the error naming the request and how long it waited. */
    public FallbackTimeoutException(String what, Duration waited) {
        super("scheduler db fallback for " + what + " did not answer within " + waited.toMillis() + " ms", null);
        this.waited = waited;
    }

    /** How long the caller waited. */
    public Duration waited() {
        return waited;
    }
}
