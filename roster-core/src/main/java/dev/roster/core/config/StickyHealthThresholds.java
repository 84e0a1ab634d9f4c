package dev.roster.core.config;

import java.time.Duration;

/**
 * {@code selection.sticky.*}: when a session's bound account is too unhealthy to serve the session's next
 * request (decisions SP2-1, SP2-2). The account is then skipped for that request while the binding is
 * kept, so the session returns to it once it is healthy again. Health is an exponentially weighted mean
 * over time of what the gateway reports ({@code report}), shared by every instance.
 *
 * @param maxErrorPercent {@code max_error_percent}: an error rate above this percentage of reports
 *     skips the account, 1..100; 100 never skips (default 50)
 * @param maxTtft {@code max_ttft}: a mean time-to-first-token above this skips the account, 0s..1h; 0s
 *     never skips (default 20s)
 * @param minSamples {@code min_samples}: the weight of recent reports (each report weighs 1, halved every
 *     half-life) below which neither mean counts, 1..10000 (default 5)
 * @param halfLife {@code half_life}: the age at which a report weighs half, 1s..24h (default 60s)
 */
public record StickyHealthThresholds(int maxErrorPercent, Duration maxTtft, int minSamples, Duration halfLife) {

    private static final String P = "selection.sticky.";

    /** The defaults. */
    public static final StickyHealthThresholds DEFAULTS =
            new StickyHealthThresholds(50, Duration.ofSeconds(20), 5, Duration.ofSeconds(60));

    /** Thresholds that never skip a bound account for its health. */
    public static final StickyHealthThresholds OFF =
            new StickyHealthThresholds(100, Duration.ZERO, 5, Duration.ofSeconds(60));

    public StickyHealthThresholds {
        if (maxErrorPercent < 1 || maxErrorPercent > 100) {
            throw new ConfigException(P + "max_error_percent", maxErrorPercent, "an integer between 1 and 100");
        }
        if (maxTtft == null || maxTtft.isNegative() || maxTtft.compareTo(Duration.ofHours(1)) > 0) {
            throw new ConfigException(P + "max_ttft", maxTtft, "a duration between 0s and 1h such as 20s");
        }
        if (minSamples < 1 || minSamples > 10_000) {
            throw new ConfigException(P + "min_samples", minSamples, "an integer between 1 and 10000");
        }
        if (halfLife == null
                || halfLife.compareTo(Duration.ofSeconds(1)) < 0
                || halfLife.compareTo(Duration.ofHours(24)) > 0) {
            throw new ConfigException(P + "half_life", halfLife, "a duration between 1s and 24h such as 60s");
        }
    }

    /** Whether an error rate skips at all (a threshold below 100 %). */
    public boolean errorRateCounts() {
        return maxErrorPercent < 100;
    }

    /** Whether a slow time-to-first-token skips at all (a positive threshold). */
    public boolean ttftCounts() {
        return !maxTtft.isZero();
    }
}
