package dev.roster.core.config;

import dev.roster.core.Group0Scope;

/**
 * Roster's {@code scope} section.
 *
 * @param group0 {@code scope.group0}: what group 0 means in standard run mode (default {@code all},
 *     the seed's meaning)
 */
public record ScopeConfig(Group0Scope group0) {
    /** The defaults. */
    public static final ScopeConfig DEFAULTS = new ScopeConfig(Group0Scope.ALL);

    public ScopeConfig {
        if (group0 == null) {
            throw new ConfigException("scope.group0", null, "all or ungrouped");
        }
    }

    /**
     * Parses {@code scope.group0}.
     *
     * @throws ConfigException naming the key when the value is not {@code all} or {@code ungrouped}
     */
    public static ScopeConfig parse(String group0) {
        if ("all".equals(group0)) {
            return new ScopeConfig(Group0Scope.ALL);
        }
        if ("ungrouped".equals(group0)) {
            return new ScopeConfig(Group0Scope.UNGROUPED);
        }
        throw new ConfigException("scope.group0", group0, "all or ungrouped");
    }
}
