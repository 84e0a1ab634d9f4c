package dev.roster.core.service;

/**
 * The database fallback failed (the source of truth could not be read). The cause is kept for the
 * operator. HTTP 503 {@code store_unavailable}.
 */
public final class StoreUnavailableException extends SchedulerException {
    /** Creates the error naming the request and keeping the cause. */
    public StoreUnavailableException(String what, Throwable cause) {
        super("scheduler db fallback for " + what + " failed: " + cause.getMessage(), cause);
    }
}
