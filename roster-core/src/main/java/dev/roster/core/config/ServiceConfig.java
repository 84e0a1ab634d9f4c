package dev.roster.core.config;

import dev.roster.core.Group0Scope;
import dev.roster.core.RunMode;
import java.util.Objects;

/**
 * Everything the snapshot service is configured with: {@code run_mode}, sub2api's {@code
 * gateway.scheduling} section and Roster's own {@code replay}, {@code projection}, {@code scope} and
 * {@code near_cache} and {@code selection} sections. Each part validates itself; this record only checks that
 * none is missing.
 *
 * @param runMode {@code run_mode} (default standard)
 * @param scheduling {@code gateway.scheduling.*}
 * @param replay {@code replay.*}
 * @param projection {@code projection.*}
 * @param scope {@code scope.*}
 * @param nearCache {@code near_cache.*}
 * @param selection {@code selection.*} (account selection)
 */
public record ServiceConfig(
        RunMode runMode,
        SchedulingConfig scheduling,
        ReplayConfig replay,
        ProjectionConfig projection,
        ScopeConfig scope,
        NearCacheConfig nearCache,
        SelectionConfig selection) {

    /** Every default. */
    public static final ServiceConfig DEFAULTS = new ServiceConfig(
            RunMode.STANDARD,
            SchedulingConfig.DEFAULTS,
            ReplayConfig.DEFAULTS,
            ProjectionConfig.DEFAULTS,
            ScopeConfig.DEFAULTS,
            NearCacheConfig.DEFAULTS,
            SelectionConfig.DEFAULTS);

    public ServiceConfig {
        if (runMode == null) {
            throw new ConfigException("run_mode", null, "standard or simple");
        }
        Objects.requireNonNull(scheduling, "scheduling");
        Objects.requireNonNull(replay, "replay");
        Objects.requireNonNull(projection, "projection");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(nearCache, "nearCache");
        Objects.requireNonNull(selection, "selection");
    }

    /** The configuration before the {@code selection} section existed: that section at its defaults. */
    public ServiceConfig(
            RunMode runMode,
            SchedulingConfig scheduling,
            ReplayConfig replay,
            ProjectionConfig projection,
            ScopeConfig scope,
            NearCacheConfig nearCache) {
        this(runMode, scheduling, replay, projection, scope, nearCache, SelectionConfig.DEFAULTS);
    }

    /** The configuration before the {@code near_cache} section existed: that section at its defaults. */
    public ServiceConfig(
            RunMode runMode,
            SchedulingConfig scheduling,
            ReplayConfig replay,
            ProjectionConfig projection,
            ScopeConfig scope) {
        this(runMode, scheduling, replay, projection, scope, NearCacheConfig.DEFAULTS, SelectionConfig.DEFAULTS);
    }

    /** The group-0 scope in effect: {@code all} in simple run mode, else {@code scope.group0}. */
    public Group0Scope effectiveGroup0Scope() {
        return runMode == RunMode.SIMPLE ? Group0Scope.ALL : scope.group0();
    }

    /** A copy with another run mode. */
    public ServiceConfig withRunMode(RunMode v) {
        return new ServiceConfig(v, scheduling, replay, projection, scope, nearCache, selection);
    }

    /** A copy with another scheduling section. */
    public ServiceConfig withScheduling(SchedulingConfig v) {
        return new ServiceConfig(runMode, v, replay, projection, scope, nearCache, selection);
    }

    /** A copy with another replay section. */
    public ServiceConfig withReplay(ReplayConfig v) {
        return new ServiceConfig(runMode, scheduling, v, projection, scope, nearCache, selection);
    }

    /** A copy with another projection section. */
    public ServiceConfig withProjection(ProjectionConfig v) {
        return new ServiceConfig(runMode, scheduling, replay, v, scope, nearCache, selection);
    }

    /** A copy with another scope section. */
    public ServiceConfig withScope(ScopeConfig v) {
        return new ServiceConfig(runMode, scheduling, replay, projection, v, nearCache, selection);
    }

    /** A copy with another near-cache section. */
    public ServiceConfig withNearCache(NearCacheConfig v) {
        return new ServiceConfig(runMode, scheduling, replay, projection, scope, v, selection);
    }

    /** A copy with another selection section. */
    public ServiceConfig withSelection(SelectionConfig v) {
        return new ServiceConfig(runMode, scheduling, replay, projection, scope, nearCache, v);
    }
}
