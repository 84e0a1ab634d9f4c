package dev.roster.core.source;

/** The source of truth could not be read or written (unreachable, timed out, failed). */
public class SourceException extends RuntimeException {
    public SourceException(String message, Throwable cause) {
        super(message, cause);
    }

    public SourceException(String message) {
        super(message);
    }
}
