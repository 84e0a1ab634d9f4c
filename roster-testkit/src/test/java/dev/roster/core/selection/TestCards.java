package dev.roster.core.selection;

import dev.roster.core.AccountCard;
import dev.roster.core.AccountLimits;
import dev.roster.core.GroupLink;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Cards for selection tests: an active anthropic API-key account in group 1 unless changed. */
final class TestCards {
    private TestCards() {}

    static AccountCard card(long id, int priority, int concurrency) {
        return AccountCard.builder()
                .id(id)
                .name("acc-" + id)
                .platform("anthropic")
                .type("apikey")
                .status("active")
                .schedulable(true)
                .priority(priority)
                .concurrency(concurrency)
                .groups(List.of(new GroupLink(1, 1)))
                .updatedAt(Instant.EPOCH)
                .build();
    }

    static AccountCard withType(AccountCard c, String type) {
        return c.toBuilder().type(type).build();
    }

    static AccountCard withPlatform(AccountCard c, String platform, boolean mixed) {
        return c.toBuilder().platform(platform).mixedScheduling(mixed).build();
    }

    static AccountCard withModels(AccountCard c, List<String> models) {
        return c.toBuilder().supportedModels(models).build();
    }

    static AccountCard withStatus(AccountCard c, String status) {
        return c.toBuilder().status(status).build();
    }

    static AccountCard withGroups(AccountCard c, List<GroupLink> groups) {
        return c.toBuilder().groups(groups).build();
    }

    static AccountCard withWeight(AccountCard c, int weight) {
        AccountLimits l = c.limits();
        return c.toBuilder()
                .limits(new AccountLimits(l.rpmLimit(), weight, l.quotaThreshold5h(), l.quotaThreshold7d()))
                .build();
    }

    static AccountCard withQuotaThresholds(AccountCard c, @Nullable Integer fiveHour, @Nullable Integer sevenDay) {
        AccountLimits l = c.limits();
        return c.toBuilder()
                .limits(new AccountLimits(l.rpmLimit(), l.weight(), fiveHour, sevenDay))
                .build();
    }

    static AccountCard withRateLimit(AccountCard c, Instant until) {
        return c.toBuilder().rateLimitResetAt(until).build();
    }
}
