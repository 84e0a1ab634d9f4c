package dev.roster.core;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** How a bucket's platform set is resolved (docs/architecture.md, "The bucket query"; docs/upstream.md U-MODE). */
public enum Mode {
    /** Only accounts of the bucket's platform. */
    SINGLE,
    /** The bucket's platform plus antigravity accounts whose {@code extra.mixed_scheduling} is {@code true}. */
    MIXED,
    /** Platform pinned by the route; same content as {@link #SINGLE}. */
    FORCED;

    /** The lower-case text used in the bucket's text form. */
    public String text() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses the lower-case text form strictly.
     *
     * @throws IllegalArgumentException naming the value when it is not {@code single}, {@code mixed} or
     *     {@code forced}
     */
    public static Mode parse(@Nullable String text) {
        return switch (text == null ? "" : text) {
            case "single" -> SINGLE;
            case "mixed" -> MIXED;
            case "forced" -> FORCED;
            default -> throw new IllegalArgumentException("mode must be single, mixed or forced, got '" + text + "'");
        };
    }

    /**
     * The mode the hot path uses for a request: forced when the route pins the platform, mixed for
     * anthropic and gemini, single otherwise.
     */
    public static Mode resolve(String platform, boolean forcePlatform) {
        if (forcePlatform) {
            return FORCED;
        }
        return Platforms.isMixedCapable(platform) ? MIXED : SINGLE;
    }
}
