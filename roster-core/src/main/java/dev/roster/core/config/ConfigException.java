package dev.roster.core.config;

import org.jspecify.annotations.Nullable;

/**
 * An invalid configuration value. The message names the key, the value (masked for secrets) and what
 * is expected, so it can be shown to an operator as it is.
 */
public final class ConfigException extends IllegalArgumentException {
    private final String key;
    private final String expected;

    /** Creates the error for {@code key}. */
    public ConfigException(String key, @Nullable Object value, String expected) {
        // One line whatever the file held: a quoted YAML value may carry newlines and control characters.
        // A blank key (a YAML key "" or " ") is quoted, else the message would start with " = ".
        super(printable((key.isBlank() ? "\"" + key + "\"" : key) + " = " + value + ": expected " + expected));
        this.key = key;
        this.expected = expected;
    }

    /** {@code s} with line breaks, tabs and other control characters written as escapes ({@code \\n}, {@code \\u0000}). */
    public static String printable(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean control = Character.isISOControl(c) || c == 0x2028 || c == 0x2029;
            if (control && b == null) {
                b = new StringBuilder(s.length() + 8).append(s, 0, i);
            }
            if (b != null) {
                if (!control) {
                    b.append(c);
                } else if (c == '\n') {
                    b.append("\\n");
                } else if (c == '\r') {
                    b.append("\\r");
                } else if (c == '\t') {
                    b.append("\\t");
                } else {
                    b.append(String.format("\\u%04x", (int) c));
                }
            }
        }
        return b == null ? s : b.toString();
    }

    /** The dotted key path, e.g. {@code gateway.scheduling.outbox_poll_interval_seconds}. */
    public String key() {
        return key;
    }

    /**
     * What the key expects, as given to the constructor (e.g. {@code an integer > 0}), so a caller that
     * knows more about where the value came from can say it again with its own rendering of the value.
     */
    public String expected() {
        return expected;
    }
}
