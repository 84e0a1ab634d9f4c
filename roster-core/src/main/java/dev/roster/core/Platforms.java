package dev.roster.core;

import java.util.List;

/**
 * Platform names. Platforms are an open set of lower-case names (upstream keeps adding them); only
 * their spelling is checked here. A well-formed name nobody uses simply yields an empty bucket.
 */
public final class Platforms {
    public static final String ANTHROPIC = "anthropic";
    public static final String GEMINI = "gemini";
    public static final String OPENAI = "openai";
    public static final String ANTIGRAVITY = "antigravity";

    /** The four platforms the seed knows; used where the seed rebuilt "all platforms" and nothing better is known. */
    public static final List<String> SEED_PLATFORMS = List.of(ANTHROPIC, GEMINI, OPENAI, ANTIGRAVITY);

    private Platforms() {}

    /** Whether {@code name} is a well-formed platform name. */
    public static boolean isValid(String name) {
        // [a-z][a-z0-9_-]{0,31}, by hand: every bucket key built on the replay and hot paths checks it.
        if (name == null || name.isEmpty() || name.length() > 32) {
            return false;
        }
        char first = name.charAt(0);
        if (first < 'a' || first > 'z') {
            return false;
        }
        for (int i = 1; i < name.length(); i++) {
            char ch = name.charAt(i);
            if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) {
                return false;
            }
        }
        return true;
    }

    /**
     * Returns {@code name} when well formed.
     *
     * @throws IllegalArgumentException naming the value and the expected shape otherwise
     */
    public static String require(String name) {
        if (!isValid(name)) {
            throw new IllegalArgumentException(
                    "platform must match [a-z][a-z0-9_-]{0,31}, got '" + (name == null ? "null" : name) + "'");
        }
        return name;
    }

    /** Platforms whose hot-path mode is {@link Mode#MIXED} (they may borrow mixed antigravity accounts). */
    public static boolean isMixedCapable(String platform) {
        return ANTHROPIC.equals(platform) || GEMINI.equals(platform);
    }
}
