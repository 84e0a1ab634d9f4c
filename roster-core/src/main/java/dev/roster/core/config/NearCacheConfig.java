package dev.roster.core.config;

import java.time.Duration;

/**
 * Roster's {@code near_cache} section: the per-instance copy of bucket snapshots that serves the hot
 * path from memory, and the write-behind of last-used times. Every value is validated at
 * construction; a {@link ConfigException} names the key and the value.
 *
 * @param enabled {@code near_cache.enabled}: whether a started service keeps bucket snapshots in
 *     memory (default true); when false every read goes to the projection
 * @param maxStale {@code near_cache.max_stale}: how long a snapshot that could not be confirmed
 *     against the projection (Redis errors, lost connection) is still served, positive (default 5 s);
 *     after that reads go to the projection and then to the guarded database fallback
 * @param checkInterval {@code near_cache.check_interval}: period of the version check that heals
 *     lost invalidation messages and confirms cached snapshots, positive and below {@code max_stale}
 *     (default 1 s)
 * @param maxBuckets {@code near_cache.max_buckets}: how many buckets one instance keeps, 1..1000000
 *     (default 10000); buckets beyond are read from the projection on every request
 * @param lastUsedFlushInterval {@code near_cache.last_used_flush_interval}: how often last-used times
 *     are written behind to PostgreSQL in one statement, positive (default 1 s)
 */
public record NearCacheConfig(
        boolean enabled, Duration maxStale, Duration checkInterval, int maxBuckets, Duration lastUsedFlushInterval) {

    private static final String P = "near_cache.";

    /** The defaults. */
    public static final NearCacheConfig DEFAULTS =
            new NearCacheConfig(true, Duration.ofSeconds(5), Duration.ofSeconds(1), 10_000, Duration.ofSeconds(1));

    public NearCacheConfig {
        positive("max_stale", maxStale);
        positive("check_interval", checkInterval);
        if (checkInterval.compareTo(maxStale) >= 0) {
            // A check period at or above the staleness bound would let healthy entries expire
            // between two confirmations and send every read to Redis.
            throw new ConfigException(
                    P + "check_interval", checkInterval, "a duration below near_cache.max_stale (" + maxStale + ")");
        }
        if (maxBuckets < 1 || maxBuckets > 1_000_000) {
            throw new ConfigException(P + "max_buckets", maxBuckets, "an integer between 1 and 1000000");
        }
        positive("last_used_flush_interval", lastUsedFlushInterval);
    }

    /** A copy with the cache switched on or off. */
    public NearCacheConfig withEnabled(boolean v) {
        return new NearCacheConfig(v, maxStale, checkInterval, maxBuckets, lastUsedFlushInterval);
    }

    /** A copy with another staleness bound and check period. */
    public NearCacheConfig withTiming(Duration maxStale, Duration checkInterval) {
        return new NearCacheConfig(enabled, maxStale, checkInterval, maxBuckets, lastUsedFlushInterval);
    }

    /** A copy with another bucket bound. */
    public NearCacheConfig withMaxBuckets(int v) {
        return new NearCacheConfig(enabled, maxStale, checkInterval, v, lastUsedFlushInterval);
    }

    /** A copy with another last-used flush period. */
    public NearCacheConfig withLastUsedFlushInterval(Duration v) {
        return new NearCacheConfig(enabled, maxStale, checkInterval, maxBuckets, v);
    }

    private static void positive(String key, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new ConfigException(P + key, d, "a positive duration such as 5s");
        }
    }
}
