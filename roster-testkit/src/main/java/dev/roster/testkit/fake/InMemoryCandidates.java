package dev.roster.testkit.fake;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.Platforms;
import dev.roster.core.TimeFilter;
import dev.roster.core.selection.CandidateSource;
import dev.roster.core.service.ListResult;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * A {@link CandidateSource} over cards held in memory, answering the bucket query directly
 * (group 0 in scope {@code all}): for tests and demos of selection without a database. Changes are seen
 * by the next {@link #list}, as if the projection were always fresh. Thread-safe.
 */
public final class InMemoryCandidates implements CandidateSource {
    private final InstantSource clock;
    private final Map<Long, AccountCard> cards = new ConcurrentHashMap<>();
    private final AtomicLong version = new AtomicLong();

    /** An empty source judging time-based blocks with {@code clock}. */
    public InMemoryCandidates(InstantSource clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Adds or replaces cards. */
    public InMemoryCandidates put(Collection<AccountCard> cs) {
        cs.forEach(c -> cards.put(c.id(), c));
        version.incrementAndGet();
        return this;
    }

    /** Adds or replaces one card. */
    public InMemoryCandidates put(AccountCard c) {
        return put(List.of(c));
    }

    /** Removes an account. */
    public void remove(long id) {
        cards.remove(id);
        version.incrementAndGet();
    }

    @Override
    public ListResult list(@Nullable Long groupId, String platform, boolean forcePlatform) {
        Platforms.require(platform);
        Mode mode = Mode.resolve(platform, forcePlatform);
        long g = groupId == null || groupId <= 0 ? 0 : groupId;
        Bucket bucket = Bucket.of(g, platform, mode);
        List<AccountCard> members = new ArrayList<>();
        for (AccountCard c : cards.values()) {
            boolean platformOk = c.platform().equals(platform)
                    || (mode == Mode.MIXED && Platforms.ANTIGRAVITY.equals(c.platform()) && c.mixedScheduling());
            boolean groupOk = g == 0 || c.linkPriority(g) != null;
            if (platformOk && groupOk && c.durablySchedulable()) {
                members.add(c);
            }
        }
        Comparator<AccountCard> order = Comparator.<AccountCard>comparingInt(
                        c -> g == 0 ? 0 : Objects.requireNonNull(c.linkPriority(g), "member"))
                .thenComparingInt(AccountCard::priority)
                .thenComparingLong(AccountCard::id);
        members.sort(order);
        return new ListResult(
                bucket,
                TimeFilter.apply(members, clock.instant()),
                mode == Mode.MIXED,
                "in-memory",
                version.get(),
                ListResult.Source.PROJECTION);
    }

    @Override
    public Optional<AccountCard> getAccount(long accountId) {
        return Optional.ofNullable(cards.get(accountId));
    }
}
