package dev.roster.server.config;

import java.util.List;

/**
 * One configuration key Roster knows: its dotted path, value type, default (as written in YAML) and
 * meaning. {@link ConfigKeys#ALL} is the single list the loader, the environment mapping and the
 * example file are checked against.
 *
 * @param path dotted key path, e.g. {@code server.admin_token}
 * @param type how the value is parsed
 * @param defaultValue the default as YAML text ({@code ""} when unset by default)
 * @param meaning one sentence for {@code roster.example.yaml}
 * @param choices allowed values of an {@link Type#ENUM} key, else empty
 */
public record ConfigKey(String path, Type type, String defaultValue, String meaning, List<String> choices) {

    /** Value types. */
    public enum Type {
        /** A whole number. */
        INT,
        /** true or false. */
        BOOL,
        /** Text. */
        STRING,
        /** Text never printed (passwords, tokens). */
        SECRET,
        /** Text that may embed a password (connection URLs): printed masked. */
        URL,
        /** A duration such as {@code 500ms}, {@code 30s}, {@code 2m}, {@code 1h30m}. */
        DURATION,
        /** A comma-separated list of durations such as {@code 5s,10s,45s} (cooldown steps). */
        DURATIONS,
        /** One of {@link ConfigKey#choices()}. */
        ENUM
    }

    /** The environment variable that sets this key: {@code ROSTER_} + the path upper-cased, dots as {@code _}. */
    public String envName() {
        return "ROSTER_" + path.toUpperCase(java.util.Locale.ROOT).replace('.', '_');
    }

    /** Whether values of this key must never be printed as they are. */
    public boolean secret() {
        return type == Type.SECRET || type == Type.URL;
    }
}
