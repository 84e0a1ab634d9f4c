package dev.roster.testkit.oracle;

import java.time.Instant;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * A card as docs/architecture.md, "Buckets and cards" defines it, computed by the oracle from an account's raw rows:
 * every field a selection rule reads and never a credential. {@code supportedModels} and {@code groups} are sets
 * (the definition gives them no order); {@code updated_at} and last-used are left out on purpose, as the
 * audit leaves them out (they move on writes that do not concern scheduling).
 *
 * @param supportedModels the keys of {@code credentials.model_mapping}
 * @param groups group id to link priority, for every link of the account
 * @param rpmLimit requests per minute, 0 for unlimited (a {@code null} column counts as 0)
 * @param weight the weight within the priority tier
 * @param quotaThreshold5h the 5-hour used-% threshold, {@code null} for the configured default
 * @param quotaThreshold7d the 7-day used-% threshold, {@code null} for the configured default
 */
public record ExpectedCard(
        long id,
        String name,
        String platform,
        String type,
        String status,
        boolean schedulable,
        int priority,
        int concurrency,
        @Nullable Instant rateLimitResetAt,
        @Nullable Instant overloadUntil,
        @Nullable Instant tempUnschedulableUntil,
        @Nullable Instant expiresAt,
        boolean autoPauseOnExpired,
        boolean mixedScheduling,
        SortedSet<String> supportedModels,
        SortedMap<Long, Integer> groups,
        int rpmLimit,
        int weight,
        @Nullable Integer quotaThreshold5h,
        @Nullable Integer quotaThreshold7d) {

    public ExpectedCard {
        supportedModels = new TreeSet<>(supportedModels);
        groups = new TreeMap<>(groups);
    }
}
