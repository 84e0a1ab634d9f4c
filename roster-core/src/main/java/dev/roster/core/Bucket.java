package dev.roster.core;

import java.util.Objects;

/**
 * A (group, platform, mode) bucket. Group 0 means "no group" (its scope is decided by {@link
 * Group0Scope} and the run mode). The text form is {@code g:p:m}.
 *
 * @param groupId group id, {@code >= 0}
 * @param platform well-formed platform name
 * @param mode the mode
 */
public record Bucket(long groupId, String platform, Mode mode) implements Comparable<Bucket> {

    public Bucket {
        if (groupId < 0) {
            throw new IllegalArgumentException("bucket group id must be >= 0, got " + groupId);
        }
        Platforms.require(platform);
        Objects.requireNonNull(mode, "mode");
    }

    /** Shorthand constructor. */
    public static Bucket of(long groupId, String platform, Mode mode) {
        return new Bucket(groupId, platform, mode);
    }

    /** The text form {@code g:p:m}. */
    public String text() {
        return groupId + ":" + platform + ":" + mode.text();
    }

    @Override
    public String toString() {
        return text();
    }

    /**
     * Parses the text form strictly: exactly three parts, a non-negative decimal group id without sign
     * or leading zeros beyond {@code 0}, a well-formed platform and a known mode.
     *
     * @throws IllegalArgumentException naming the input and what is wrong with it
     */
    public static Bucket parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("bucket text is null");
        }
        String[] parts = text.split(":", -1);
        if (parts.length != 3) {
            throw new IllegalArgumentException("bucket must be <group>:<platform>:<mode>, got '" + text + "'");
        }
        String g = parts[0];
        if (g.isEmpty()
                || g.length() > 19
                || !g.chars().allMatch(c -> c >= '0' && c <= '9')
                || (g.length() > 1 && g.charAt(0) == '0')) {
            throw new IllegalArgumentException("bucket group must be a non-negative integer, got '" + text + "'");
        }
        long groupId;
        try {
            groupId = Long.parseLong(g);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bucket group out of range in '" + text + "'", e);
        }
        if (!Platforms.isValid(parts[1])) {
            throw new IllegalArgumentException("bucket platform is malformed in '" + text + "'");
        }
        Mode mode;
        try {
            mode = Mode.parse(parts[2]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bucket mode is unknown in '" + text + "'", e);
        }
        return new Bucket(groupId, parts[1], mode);
    }

    @Override
    public int compareTo(Bucket o) {
        int c = Long.compare(groupId, o.groupId);
        if (c != 0) {
            return c;
        }
        c = platform.compareTo(o.platform);
        return c != 0 ? c : mode.compareTo(o.mode);
    }
}
