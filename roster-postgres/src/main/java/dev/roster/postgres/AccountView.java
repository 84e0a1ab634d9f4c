package dev.roster.postgres;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An account as an administrator sees it: every stored field except credentials, of which only
 * whether any are set and the keys of {@code model_mapping} are shown. Written by {@link AccountAdmin}.
 *
 * @param id id
 * @param name name
 * @param platform platform
 * @param type type
 * @param status status
 * @param schedulable admin switch
 * @param priority priority
 * @param concurrency slot limit
 * @param credentialsSet whether any credentials are stored (they are never returned)
 * @param supportedModels keys of credentials.model_mapping, sorted
 * @param extra the extra flags object
 * @param rateLimitResetAt rate limit end
 * @param overloadUntil overload end
 * @param tempUnschedulableUntil temporary block end
 * @param expiresAt expiry
 * @param autoPauseOnExpired whether expiry blocks
 * @param lastUsedAt last use written behind to PostgreSQL
 * @param createdAt creation
 * @param updatedAt last change
 * @param deletedAt soft deletion
 * @param groups links, by link priority then group id
 * @param rpmLimit requests per sliding minute, {@code null} for unlimited (a stored 0 reads as {@code null})
 * @param weight share of load within the priority tier
 * @param quotaThreshold5h used-% of the 5-hour window that pauses the account, {@code null} for the default
 * @param quotaThreshold7d the same for the 7-day window (the thresholds are named explicitly: Jackson's
 *     snake case puts no underscore before a digit)
 */
public record AccountView(
        long id,
        String name,
        String platform,
        String type,
        String status,
        boolean schedulable,
        int priority,
        int concurrency,
        boolean credentialsSet,
        List<String> supportedModels,
        Map<String, Object> extra,
        @Nullable Instant rateLimitResetAt,
        @Nullable Instant overloadUntil,
        @Nullable Instant tempUnschedulableUntil,
        @Nullable Instant expiresAt,
        boolean autoPauseOnExpired,
        @Nullable Instant lastUsedAt,
        @Nullable Instant createdAt,
        @Nullable Instant updatedAt,
        @Nullable Instant deletedAt,
        List<Link> groups,
        @Nullable Integer rpmLimit,
        int weight,
        @JsonProperty("quota_threshold_5h") @Nullable Integer quotaThreshold5h,
        @JsonProperty("quota_threshold_7d") @Nullable Integer quotaThreshold7d) {

    /**
     * A link of an account to a group.
     *
     * @param id group id, {@code > 0}
     * @param priority link priority (smaller first), {@code >= 0}
     */
    public record Link(long id, int priority) {
        /** The priority of a link given without one. */
        public static final int DEFAULT_PRIORITY = 1;

        public Link {
            if (id <= 0) {
                throw new IllegalArgumentException("group ids must be positive, got " + id);
            }
            if (priority < 0) {
                throw new IllegalArgumentException("link priority must not be negative, got " + priority);
            }
        }

        /** A link with {@link #DEFAULT_PRIORITY}. */
        public static Link of(long id) {
            return new Link(id, DEFAULT_PRIORITY);
        }
    }
}
