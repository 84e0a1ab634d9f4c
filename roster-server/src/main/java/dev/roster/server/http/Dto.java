package dev.roster.server.http;

import dev.roster.core.AccountCard;
import dev.roster.core.GroupLink;
import java.time.Instant;
import java.util.List;

/** JSON shapes of the API (field names become snake_case; 64-bit numbers are written as strings). */
final class Dto {
    private Dto() {}

    /** A card plus last-used. Never credentials. */
    record Card(
            long id,
            String name,
            String platform,
            String type,
            String status,
            boolean schedulable,
            int priority,
            int concurrency,
            Instant rateLimitResetAt,
            Instant overloadUntil,
            Instant tempUnschedulableUntil,
            Instant expiresAt,
            boolean autoPauseOnExpired,
            boolean mixedScheduling,
            List<String> supportedModels,
            List<Link> groups,
            Instant updatedAt,
            Instant lastUsedAt) {

        static Card of(AccountCard c, Instant lastUsed) {
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
