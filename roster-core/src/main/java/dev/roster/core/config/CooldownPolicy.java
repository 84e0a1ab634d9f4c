package dev.roster.core.config;

import java.time.Duration;
import java.util.List;

/**
 * {@code selection.cooldowns.*}: how long a reported upstream error keeps an account (or one model of
 * it) out of selection, by error class (decisions CD1–CD3). A list of steps escalates: the n-th
 * consecutive failure of a class cools for the n-th step, the last step repeating; a success report ends
 * every streak, and a streak also ends {@code streakWindow} after its last failure.
 *
 * @param rateLimitSteps {@code rate_limit_steps}: a 429 that announced no reset time (default 5s, 10s,
 *     45s)
 * @param rateLimitMax {@code rate_limit_max}: cap of a 429 that announced its reset time or a {@code
 *     Retry-After} (default 1h); a later announced reset is cut to it
 * @param quotaDefault {@code quota_default}: an exhausted quota reported without its reset time (default
 *     1h)
 * @param quotaMax {@code quota_max}: cap of an exhausted quota's reset time (default 168h, the 7-day
 *     window)
 * @param overloadSteps {@code overload_steps}: 529 / 503 overload (default 5s, 15s, 30s, 60s)
 * @param modelUnsupportedSteps {@code model_unsupported_steps}: a model the account refused, for that model
 *     on that account only (default 30m)
 * @param streakWindow {@code streak_window}: a failure more than this after the previous one of its class
 *     starts a new streak (default 10m)
 */
public record CooldownPolicy(
        List<Duration> rateLimitSteps,
        Duration rateLimitMax,
        Duration quotaDefault,
        Duration quotaMax,
        List<Duration> overloadSteps,
        List<Duration> modelUnsupportedSteps,
        Duration streakWindow) {

    /** The longest cooldown any step or cap may name. */
    public static final Duration MAX = Duration.ofDays(30);

    /** The most steps a list may hold. */
    public static final int MAX_STEPS = 20;

    private static final String P = "selection.cooldowns.";

    /** The defaults. */
    public static final CooldownPolicy DEFAULTS = new CooldownPolicy(
            List.of(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(45)),
            Duration.ofHours(1),
            Duration.ofHours(1),
            Duration.ofDays(7),
            List.of(Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofSeconds(30), Duration.ofSeconds(60)),
            List.of(Duration.ofMinutes(30)),
            Duration.ofMinutes(10));

    public CooldownPolicy {
        rateLimitSteps = steps("rate_limit_steps", rateLimitSteps);
        between("rate_limit_max", rateLimitMax);
        between("quota_default", quotaDefault);
        between("quota_max", quotaMax);
        overloadSteps = steps("overload_steps", overloadSteps);
        modelUnsupportedSteps = steps("model_unsupported_steps", modelUnsupportedSteps);
        between("streak_window", streakWindow);
    }

    /**
     * A policy with one fixed duration per class and no escalation, as selection behaved before error
     * classes: {@code rateLimit} for a 429 without reset and an exhausted quota without reset, {@code
     * overload} for an overload; announced resets are capped at {@link #MAX}.
     */
    public static CooldownPolicy fixed(Duration rateLimit, Duration overload) {
        return new CooldownPolicy(
                List.of(rateLimit),
                MAX,
                rateLimit,
                MAX,
                List.of(overload),
                DEFAULTS.modelUnsupportedSteps(),
                DEFAULTS.streakWindow());
    }

    /** The cooldown of the {@code n}-th consecutive failure (1-based) on {@code steps}: the last step repeats. */
    public static Duration step(List<Duration> steps, int n) {
        return steps.get(Math.min(Math.max(n, 1), steps.size()) - 1);
    }

    /** A copy with other 429 steps. */
    public CooldownPolicy withRateLimitSteps(List<Duration> v) {
        return new CooldownPolicy(
                v, rateLimitMax, quotaDefault, quotaMax, overloadSteps, modelUnsupportedSteps, streakWindow);
    }

    /** A copy with other overload steps. */
    public CooldownPolicy withOverloadSteps(List<Duration> v) {
        return new CooldownPolicy(
                rateLimitSteps, rateLimitMax, quotaDefault, quotaMax, v, modelUnsupportedSteps, streakWindow);
    }

    private static List<Duration> steps(String key, List<Duration> v) {
        if (v == null || v.isEmpty() || v.size() > MAX_STEPS) {
            throw new ConfigException(P + key, v, "a list of 1.." + MAX_STEPS + " durations such as 5s,10s,45s");
        }
        for (Duration d : v) {
            if (d == null || d.compareTo(Duration.ofMillis(1)) < 0 || d.compareTo(MAX) > 0) {
                throw new ConfigException(P + key, v, "durations between 1ms and " + MAX + " such as 5s,10s,45s");
            }
        }
        return List.copyOf(v);
    }

    private static void between(String key, Duration d) {
        if (d == null || d.compareTo(Duration.ofMillis(1)) < 0 || d.compareTo(MAX) > 0) {
            throw new ConfigException(P + key, d, "a duration between 1ms and " + MAX + " such as 5m");
        }
    }
}
