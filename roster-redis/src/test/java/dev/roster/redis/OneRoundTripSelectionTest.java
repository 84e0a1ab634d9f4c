package dev.roster.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.AccountLimits;
import dev.roster.core.GroupLink;
import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.config.SelectionConfig;
import dev.roster.core.selection.SelectRequest;
import dev.roster.core.selection.Selection;
import dev.roster.core.selection.Selector;
import dev.roster.testkit.RedisHarness;
import dev.roster.testkit.TestClock;
import dev.roster.testkit.fake.InMemoryCandidates;
import dev.roster.testkit.fake.InMemoryUsageLedger;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Selection from a held load view with one acquisition script per attempt (decisions S4, S5 under
 * "One-round-trip selection and new card fields"), on a real Redis, three selector instances each with
 * its own connection: whatever the views say, the script admits no more than {@code concurrency} slots
 * and no more than {@code rpm_limit} acquisitions in any 60 s window, and an account refused for its RPM
 * limit is skipped for the next one with the reason in the result.
 */
class OneRoundTripSelectionTest {
    private static final int INSTANCES = 3;

    private final List<RedisSelectionStore> stores = new ArrayList<>();

    @AfterEach
    void close() {
        stores.forEach(RedisSelectionStore::close);
    }

    private static AccountCard card(long id, int priority, int concurrency, int rpmLimit) {
        return AccountCard.builder()
                .id(id)
                .name("rt-" + id)
                .platform("openai")
                .type("apikey")
                .status("active")
                .schedulable(true)
                .priority(priority)
                .concurrency(concurrency)
                .groups(List.of(new GroupLink(1, 1)))
                .updatedAt(Instant.EPOCH)
                .limits(new AccountLimits(rpmLimit, 1, null, null))
                .build();
    }

    private List<Selector> selectors(String prefix, InstantSource clock, InMemoryCandidates candidates) {
        SchedulingConfig scheduling = SchedulingConfig.DEFAULTS;
        List<Selector> out = new ArrayList<>();
        for (int i = 0; i < INSTANCES; i++) {
            RedisSelectionStore s = RedisSelectionStore.connect(
                    RedisConnectionOptions.of(RedisHarness.shared().uri()), TestRedis.RESOURCES, prefix, clock);
            stores.add(s);
            out.add(Selector.newBuilder()
                    .source(candidates)
                    .store(s)
                    .usage(new InMemoryUsageLedger())
                    .scheduling(scheduling)
                    .selection(SelectionConfig.DEFAULTS.withLoadViewMaxAge(Duration.ofSeconds(5)))
                    .clock(clock)
                    .build());
        }
        return out;
    }

    @Test
    void manyThreadsOnThreeSelectors_neverHoldMoreThanTheConcurrency() throws Exception {
        String prefix = RedisHarness.shared().keyPrefix(OneRoundTripSelectionTest.class) + "conc:";
        InstantSource clock = InstantSource.system();
        List<AccountCard> pool = List.of(card(1, 0, 2, 0), card(2, 0, 3, 0), card(3, 1, 1, 0));
        InMemoryCandidates candidates = new InMemoryCandidates(clock).put(pool);
        List<Selector> selectors = selectors(prefix, clock, candidates);
        Map<Long, AtomicInteger> holding = new ConcurrentHashMap<>();
        Map<Long, AtomicInteger> most = new ConcurrentHashMap<>();
        pool.forEach(c -> {
            holding.put(c.id(), new AtomicInteger());
            most.put(c.id(), new AtomicInteger());
        });
        AtomicInteger acquired = new AtomicInteger();
        ExecutorService workers = Executors.newFixedThreadPool(24);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < 24; w++) {
                Selector sel = selectors.get(w % INSTANCES);
                done.add(workers.submit(() -> {
                    for (int i = 0; i < 40; i++) {
                        Selection s = sel.select(SelectRequest.of(1L, "openai"));
                        if (s instanceof Selection.Wait wait) {
                            sel.release(wait.ticket());
                        }
                        if (s instanceof Selection.Acquired a) {
                            long id = a.card().id();
                            int now = holding.get(id).incrementAndGet();
                            most.get(id).accumulateAndGet(now, Math::max);
                            acquired.incrementAndGet();
                            LockSupport.parkNanos(200_000);
                            holding.get(id).decrementAndGet();
                            sel.release(a.lease());
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            workers.shutdownNow();
        }
        assertThat(acquired.get()).as("acquisitions").isPositive();
        for (AccountCard c : pool) {
            assertThat(most.get(c.id()).get())
                    .as("most slots held at once on account %d", c.id())
                    .isLessThanOrEqualTo(c.concurrency());
        }
    }

    @Test
    void noSixtySecondWindowExceedsTheRpmLimit_andAFullAccountIsSkippedWithItsReason() throws Exception {
        String prefix = RedisHarness.shared().keyPrefix(OneRoundTripSelectionTest.class) + "rpm:";
        TestClock clock = TestClock.at(TestClock.T0);
        int limit = 5;
        // Account 1 is preferred (priority 0) but allows 5 requests a minute; account 2 takes the rest.
        List<AccountCard> pool = List.of(card(1, 0, 50, limit), card(2, 1, 50, 0));
        InMemoryCandidates candidates = new InMemoryCandidates(clock).put(pool);
        List<Selector> selectors = selectors(prefix, clock, candidates);
        List<Instant> grantsOfLimited = new CopyOnWriteArrayList<>();
        List<Selection.Acquired> skippedForRpm = new CopyOnWriteArrayList<>();
        ExecutorService workers = Executors.newFixedThreadPool(12);
        try {
            // 30 rounds 7 s apart (3.5 minutes of the fake clock), 12 concurrent selects per round.
            for (int round = 0; round < 30; round++) {
                List<Future<?>> done = new ArrayList<>();
                for (int w = 0; w < 12; w++) {
                    Selector sel = selectors.get(w % INSTANCES);
                    done.add(workers.submit(() -> {
                        Selection s = sel.select(SelectRequest.of(1L, "openai"));
                        assertThat(s).isInstanceOf(Selection.Acquired.class);
                        Selection.Acquired a = (Selection.Acquired) s;
                        if (a.card().id() == 1) {
                            grantsOfLimited.add(clock.instant());
                        } else if (a.skipped().get(1L) == Selection.Reason.RPM_FULL) {
                            skippedForRpm.add(a);
                        }
                        sel.release(a.lease());
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
                clock.advance(Duration.ofSeconds(7));
            }
        } finally {
            workers.shutdownNow();
        }
        List<Instant> sorted = grantsOfLimited.stream().sorted().toList();
        assertThat(sorted).as("grants of the limited account").isNotEmpty();
        for (int i = 0; i < sorted.size(); i++) {
            Instant end = sorted.get(i).plus(Duration.ofSeconds(60));
            int from = i;
            long inWindow = sorted.stream()
                    .filter(t -> !t.isBefore(sorted.get(from)) && t.isBefore(end))
                    .count();
            assertThat(inWindow)
                    .as("grants in the 60 s window from %s", sorted.get(i))
                    .isLessThanOrEqualTo(limit);
        }
        // The limit is used whole: 3.5 minutes allow about 4 windows' worth.
        assertThat(sorted.size()).as("grants of the limited account").isGreaterThanOrEqualTo(3 * limit);
        assertThat(skippedForRpm)
                .as("selections that skipped the limited account for its RPM limit")
                .isNotEmpty();
        assertThat(skippedForRpm.getFirst().card().id()).isEqualTo(2);

        // With the other account gone, an RPM-full pool answers none with the reason and when it frees.
        candidates.remove(2);
        Selector sel = selectors.getFirst();
        Selection last = null;
        for (int i = 0; i <= limit; i++) {
            last = sel.select(SelectRequest.of(1L, "openai"));
        }
        assertThat(last).isInstanceOf(Selection.None.class);
        Selection.None none = (Selection.None) last;
        assertThat(none.reason()).isEqualTo(Selection.Reason.RPM_FULL);
        assertThat(none.until())
                .isAfter(clock.instant())
                .isBeforeOrEqualTo(clock.instant().plusSeconds(60));
    }
}
