package dev.roster.core.projection;

import org.jspecify.annotations.Nullable;

/**
 * Base type of the errors a {@link Projection} reports. Callers act on the subtype: {@link
 * ProjectionUnavailableException} means "try again later or fall back", {@link CorruptValueException}
 * means "this one value cannot be trusted; treat it as a miss".
 */
public abstract sealed class ProjectionException extends RuntimeException
        permits ProjectionUnavailableException, CorruptValueException {

    ProjectionException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
