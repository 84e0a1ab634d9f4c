package dev.roster.core.config;

/**
 * {@code selection.quota.*}: the used-% of an account's 5-hour and 7-day quota windows at which it is
 * skipped until that window resets, for accounts whose card sets no threshold of their own ({@code
 * quota_threshold_5h} / {@code quota_threshold_7d}). 100 means "only when the window is exhausted".
 *
 * @param fiveHour {@code selection.quota.threshold_5h}, 1..100 (default 100)
 * @param sevenDay {@code selection.quota.threshold_7d}, 1..100 (default 100)
 */
public record QuotaThresholds(int fiveHour, int sevenDay) {

    /** Both windows pause an account only once exhausted. */
    public static final QuotaThresholds DEFAULTS = new QuotaThresholds(100, 100);

    public QuotaThresholds {
        percent("threshold_5h", fiveHour);
        percent("threshold_7d", sevenDay);
    }

    private static void percent(String key, int v) {
        if (v < 1 || v > 100) {
            throw new ConfigException("selection.quota." + key, v, "a used-% between 1 and 100");
        }
    }
}
