package dev.roster.core.config;

/**
 * An invalid configuration value. The message names the key, the value (masked for secrets) and what
 * is expected, so it can be shown to an operator as it is.
 */
public final class ConfigException extends IllegalArgumentException {
    private final String key;

    /** Creates the error for {@code key}. */
    public ConfigException(String key, Object value, String expected) {
        super(key + " = " + value + ": expected " + expected);
        this.key = key;
    }

    /** The dotted key path, e.g. {@code gateway.scheduling.outbox_poll_interval_seconds}. */
    public String key() {
        return key;
    }
}
