package dev.roster.core;

import org.jspecify.annotations.Nullable;

/**
 * The per-account selection limits an operator sets beside priority and concurrency (decision S1 under
 * "One-round-trip selection and new card fields"): a requests-per-minute cap, a weight within the
 * account's priority tier, and the used-% thresholds of the 5-hour and 7-day quota windows. Validated on
 * construction; a message names the field in the admin API's spelling.
 *
 * @param rpmLimit requests per sliding 60 s window, {@code 0} for unlimited (the column's {@code null}
 *     and {@code 0} both read as {@code 0})
 * @param weight share of load within a priority tier, {@value #MIN_WEIGHT}..{@value #MAX_WEIGHT}
 * @param quotaThreshold5h used-% of the 5-hour window at which the account is skipped until that
 *     window resets, 1..100, or {@code null} for the configured default
 * @param quotaThreshold7d the same for the 7-day window
 */
public record AccountLimits(
        int rpmLimit,
        int weight,
        @Nullable Integer quotaThreshold5h,
        @Nullable Integer quotaThreshold7d) {

    /** The smallest weight. */
    public static final int MIN_WEIGHT = 1;

    /** The largest weight: large enough for any real capacity ratio, small enough to sum without care. */
    public static final int MAX_WEIGHT = 1000;

    /** The weight of an account that sets none. */
    public static final int DEFAULT_WEIGHT = 1;

    /** The largest RPM limit; far above any upstream's real limit, it bounds the sliding window's size. */
    public static final int MAX_RPM_LIMIT = 1_000_000;

    /** No RPM limit, weight 1, the configured thresholds: what an account that sets nothing has. */
    public static final AccountLimits DEFAULTS = new AccountLimits(0, DEFAULT_WEIGHT, null, null);

    public AccountLimits {
        if (rpmLimit < 0 || rpmLimit > MAX_RPM_LIMIT) {
            throw new IllegalArgumentException(
                    "rpm_limit must be between 0 (unlimited) and " + MAX_RPM_LIMIT + ", got " + rpmLimit);
        }
        if (weight < MIN_WEIGHT || weight > MAX_WEIGHT) {
            throw new IllegalArgumentException(
                    "weight must be between " + MIN_WEIGHT + " and " + MAX_WEIGHT + ", got " + weight);
        }
        threshold("quota_threshold_5h", quotaThreshold5h);
        threshold("quota_threshold_7d", quotaThreshold7d);
    }

    /** Whether requests per minute are capped. */
    public boolean hasRpmLimit() {
        return rpmLimit > 0;
    }

    /** The 5-hour threshold, or {@code fallback} (the configured default) when the account sets none. */
    public int quotaThreshold5hOr(int fallback) {
        return quotaThreshold5h == null ? fallback : quotaThreshold5h;
    }

    /** The 7-day threshold, or {@code fallback} (the configured default) when the account sets none. */
    public int quotaThreshold7dOr(int fallback) {
        return quotaThreshold7d == null ? fallback : quotaThreshold7d;
    }

    private static void threshold(String field, @Nullable Integer v) {
        if (v != null && (v < 1 || v > 100)) {
            throw new IllegalArgumentException(field + " must be a used-% between 1 and 100 (or null), got " + v);
        }
    }
}
