package dev.roster.core.source;

/**
 * The source answered, and refused the statement for a reason that retrying will not change: a bug or
 * a schema that drifted (a syntax error, an undefined column or function, a violated constraint, bad
 * data). Unlike {@link SourceException} it is not an outage: the replayer counts it against the events
 * whose work raised it and dead-letters them after {@code replay.max_attempts}, instead of retrying the
 * batch forever. The message names what failed and never carries row data.
 */
public class SourceDefectException extends RuntimeException {
    public SourceDefectException(String message, Throwable cause) {
        super(message, cause);
    }

    public SourceDefectException(String message) {
        super(message);
    }
}
