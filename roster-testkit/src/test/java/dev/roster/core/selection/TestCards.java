package dev.roster.core.selection;

import dev.roster.core.AccountCard;
import dev.roster.core.GroupLink;
import java.time.Instant;
import java.util.List;

/** Cards for selection tests: an active anthropic API-key account in group 1 unless changed. */
final class TestCards {
    private TestCards() {}

    static AccountCard card(long id, int priority, int concurrency) {
        return new AccountCard(
                id,
                "acc-" + id,
                "anthropic",
                "apikey",
                "active",
                true,
                priority,
                concurrency,
                null,
                null,
                null,
                null,
                false,
                false,
                List.of(),
                List.of(new GroupLink(1, 1)),
                Instant.EPOCH);
    }

    static AccountCard withType(AccountCard c, String type) {
        return new AccountCard(
                c.id(),
                c.name(),
                c.platform(),
                type,
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
                c.groups(),
                c.updatedAt());
    }

    static AccountCard withPlatform(AccountCard c, String platform, boolean mixed) {
        return new AccountCard(
                c.id(),
                c.name(),
                platform,
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
                mixed,
                c.supportedModels(),
                c.groups(),
                c.updatedAt());
    }

    static AccountCard withModels(AccountCard c, List<String> models) {
        return new AccountCard(
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
                models,
                c.groups(),
                c.updatedAt());
    }

    static AccountCard withStatus(AccountCard c, String status) {
        return new AccountCard(
                c.id(),
                c.name(),
                c.platform(),
                c.type(),
                status,
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
                c.groups(),
                c.updatedAt());
    }

    static AccountCard withGroups(AccountCard c, List<GroupLink> groups) {
        return new AccountCard(
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
                groups,
                c.updatedAt());
    }

    static AccountCard withRateLimit(AccountCard c, Instant until) {
        return new AccountCard(
                c.id(),
                c.name(),
                c.platform(),
                c.type(),
                c.status(),
                c.schedulable(),
                c.priority(),
                c.concurrency(),
                until,
                c.overloadUntil(),
                c.tempUnschedulableUntil(),
                c.expiresAt(),
                c.autoPauseOnExpired(),
                c.mixedScheduling(),
                c.supportedModels(),
                c.groups(),
                c.updatedAt());
    }
}
