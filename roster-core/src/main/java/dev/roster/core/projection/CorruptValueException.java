package dev.roster.core.projection;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A stored value could not be decoded: it is truncated, garbage, or written in a format version this
 * reader does not understand (for example by a newer instance during a rolling upgrade). It names the
 * key and the reason. Read paths never throw it: they return {@link Lookup.Corrupt} carrying it, and
 * callers treat that as a miss.
 */
public final class CorruptValueException extends ProjectionException {
    private final String key;
    private final String reason;

    /**
     * Creates the exception.
     *
     * @param key the key (or in-memory name) whose value is bad
     * @param reason why it is bad, e.g. "format version 9, this reader understands 1"
     */
    public CorruptValueException(String key, String reason) {
        this(key, reason, null);
    }

    /**
     * Creates the exception with an underlying cause.
     *
     * @param key the key whose value is bad
     * @param reason why it is bad
     * @param cause what the decoder hit, or {@code null}
     */
    public CorruptValueException(String key, @Nullable String reason, @Nullable Throwable cause) {
        super("corrupt value at '" + key + "': " + reason, cause);
        this.key = Objects.requireNonNull(key, "key");
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** The key whose value is bad. */
    public String key() {
        return key;
    }

    /** Why the value is bad. */
    public String reason() {
        return reason;
    }
}
