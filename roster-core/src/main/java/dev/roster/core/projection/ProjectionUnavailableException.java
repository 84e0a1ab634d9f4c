package dev.roster.core.projection;

import org.jspecify.annotations.Nullable;

/**
 * The projection store could not be reached or did not answer in time (connection refused or lost,
 * command timeout, request queue full, server loading or failing over). Nothing is known about
 * whether a write that failed this way was applied; every write of the port is safe to repeat.
 */
public final class ProjectionUnavailableException extends ProjectionException {

    /**
     * Creates the exception.
     *
     * @param message what was attempted and against what, e.g. the operation and key
     * @param cause the client's error, kept for the operator
     */
    public ProjectionUnavailableException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
