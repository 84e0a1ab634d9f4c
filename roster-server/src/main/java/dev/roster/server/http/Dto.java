package dev.roster.server.http;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.roster.core.AccountCard;
import dev.roster.core.GroupLink;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** JSON shapes of the API (field names become snake_case; 64-bit numbers are written as strings). */
final class Dto {
    private Dto() {}

    /**
     * A card plus last-used. Never credentials. {@code rpm_limit} 0 is unlimited; a {@code null} quota
     * threshold is the configured default.
     */
    record Card(
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
            List<String> supportedModels,
            List<Link> groups,
            @Nullable Instant updatedAt,
            int rpmLimit,
            int weight,
            @JsonProperty("quota_threshold_5h") @Nullable Integer quotaThreshold5h,
            @JsonProperty("quota_threshold_7d") @Nullable Integer quotaThreshold7d,
            @Nullable Instant lastUsedAt) {

        static Card of(AccountCard c, @Nullable Instant lastUsed) {
            return new Card(
                    c.id(),
                    c.name(),
                    c.platform(),
                    c.type(),
                    c.status(),
                    c.schedulable(),
                    c.priority(),
                    c.concurrency(),
                    c.rateLimitResetAt(),
                    c.overloadUntil(),
                    c.tempUnschedulableUntil(),
                    c.expiresAt(),
                    c.autoPauseOnExpired(),
                    c.mixedScheduling(),
                    c.supportedModels(),
                    c.groups().stream().map(Link::of).toList(),
                    c.updatedAt(),
                    c.rpmLimit(),
                    c.weight(),
                    c.quotaThreshold5h(),
                    c.quotaThreshold7d(),
                    lastUsed);
        }
    }

    /** A group link of a card. */
    record Link(long id, int priority) {
        static Link of(GroupLink l) {
            return new Link(l.groupId(), l.priority());
        }
    }

    /** {@code GET /v1/schedulable}. */
    record Schedulable(String bucket, String generation, long version, boolean useMixed, List<Card> accounts) {}

    /** {@code GET /v1/schedulable?view=ids}: the listed ids in order, without the cards. */
    record SchedulableIds(String bucket, String generation, long version, boolean useMixed, List<Long> ids) {}

    /** {@code POST /v1/accounts/{id}/used}. */
    record Used(long id, Instant lastUsedAt) {}
}
