package dev.roster.core.service;

import org.jspecify.annotations.Nullable;

/**
 * Base type of the errors the snapshot service's hot path reports; callers act on the subtype.
 * These are expected at high rates under load shedding, so they carry no stack trace.
 */
public abstract sealed class SchedulerException extends RuntimeException
        permits CacheNotReadyException, FallbackLimitedException, FallbackTimeoutException, StoreUnavailableException {

    SchedulerException(String message, @Nullable Throwable cause) {
        super(message, cause, false, false);
    }
}
