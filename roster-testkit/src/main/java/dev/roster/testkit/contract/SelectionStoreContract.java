package dev.roster.testkit.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.roster.core.selection.AccountHealth;
import dev.roster.core.selection.AccountLoad;
import dev.roster.core.selection.CooldownKind;
import dev.roster.core.selection.QuotaUsage;
import dev.roster.core.selection.SelectionStore;
import dev.roster.core.selection.SlotAttempt;
import dev.roster.core.selection.SlotLease;
import dev.roster.core.selection.Tokens;
import dev.roster.core.selection.WaitTicket;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link SelectionStore}, run against every implementation. A subclass supplies {@link
 * #open(String, InstantSource)}: a new client over a namespace, judging expiry with the given clock; two
 * clients of one namespace share their data (as instances of one Redis), so several clients can race. The
 * suite drives a fake clock shared by all clients, so expiry is tested without waiting.
 */
public abstract class SelectionStoreContract {
    private static final AtomicLong NAMESPACES = new AtomicLong();
    private static final Duration TTL = Duration.ofSeconds(30);

    private final List<SelectionStore> opened = new CopyOnWriteArrayList<>();
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-03-01T12:00:00Z"));

    /** The fake clock every client of the current test judges expiry with. */
    protected final InstantSource clock = now::get;

    /** The current test's namespace. */
    protected String namespace;

    /** The current test's first client. */
    protected SelectionStore store;

    /** Opens a new client over {@code namespace} judging expiry with {@code clock}. */
    protected abstract SelectionStore open(String namespace, InstantSource clock);

    /** Opens another client of the current namespace; closed after the test. */
    protected final SelectionStore client() {
        SelectionStore s = open(namespace, clock);
        opened.add(s);
        return s;
    }

    /** Moves the fake clock. */
    protected final void elapse(Duration d) {
        now.updateAndGet(t -> t.plus(d));
    }

    @BeforeEach
    void openStore() {
        namespace = "s" + NAMESPACES.incrementAndGet();
        store = client();
    }

    @AfterEach
    void closeStores() {
        opened.forEach(SelectionStore::close);
        opened.clear();
    }

    private static SlotLease granted(SlotAttempt a) {
        assertThat(a).isInstanceOf(SlotAttempt.Granted.class);
        return ((SlotAttempt.Granted) a).lease();
    }

    private AccountLoad load(long id) {
        return Objects.requireNonNull(store.loads(List.of(id)).get(id), "load");
    }

    private static @Nullable Instant coolingOf(SelectionStore.Reading r, long id) {
        return Objects.requireNonNull(r.loads().get(id), "load").coolingUntil();
    }

    // ---- slots -----------------------------------------------------------------------------

    @Test
    void acquire_upToConcurrency_thenFull_releaseFreesOneIdempotently() {
        SlotLease a = granted(store.tryAcquire(1, 2, TTL));
        SlotLease b = granted(client().tryAcquire(1, 2, TTL));
        assertThat(a.token()).isNotEqualTo(b.token());
        assertThat(a.expiresAt()).isEqualTo(clock.instant().plus(TTL));
        assertThat(store.tryAcquire(1, 2, TTL)).isEqualTo(new SlotAttempt.Full(2));
        assertThat(load(1)).isEqualTo(new AccountLoad(2, 0, null));

        assertThat(client().release(1, a.token())).isTrue();
        assertThat(store.release(1, a.token())).isFalse();
        assertThat(load(1).inFlight()).isEqualTo(1);
        granted(store.tryAcquire(1, 2, TTL));
        // Slots of other accounts are independent.
        granted(store.tryAcquire(2, 1, TTL));
    }

    @Test
    void acquire_nonPositiveConcurrencyIsUnlimitedButCounted() {
        for (int i = 0; i < 5; i++) {
            granted(store.tryAcquire(1, 0, TTL));
        }
        assertThat(load(1).inFlight()).isEqualTo(5);
    }

    @Test
    void lease_expiresIfItsHolderDies_renewKeepsItLive() {
        SelectionStore crashed = client();
        SlotLease dead = granted(crashed.tryAcquire(1, 1, TTL));
        crashed.close();
        opened.remove(crashed);
        assertThat(store.tryAcquire(1, 1, TTL)).isInstanceOf(SlotAttempt.Full.class);
        elapse(TTL.minusMillis(1));
        assertThat(store.tryAcquire(1, 1, TTL)).isInstanceOf(SlotAttempt.Full.class);
        elapse(Duration.ofMillis(1));
        // Expiry is at the instant: the dead holder's slot is free.
        assertThat(load(1).inFlight()).isZero();
        SlotLease next = granted(store.tryAcquire(1, 1, TTL));
        assertThat(store.release(1, dead.token())).isFalse();
        assertThat(store.renew(dead, TTL)).isFalse();

        elapse(Duration.ofSeconds(20));
        assertThat(store.renew(next, TTL)).isTrue();
        elapse(Duration.ofSeconds(20));
        assertThat(store.tryAcquire(1, 1, TTL)).isInstanceOf(SlotAttempt.Full.class);
        elapse(Duration.ofSeconds(10));
        assertThat(store.release(1, next.token())).isFalse();
    }

    @Test
    void acquire_isAtomicAcrossClients() throws Exception {
        int clients = 4;
        int threadsPerClient = 4;
        int concurrency = 3;
        List<SelectionStore> stores = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            stores.add(client());
        }
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger maxSeen = new AtomicInteger();
        AtomicInteger grants = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(clients * threadsPerClient);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < clients * threadsPerClient; t++) {
                SelectionStore s = stores.get(t % clients);
                fs.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 40; i++) {
                        if (s.tryAcquire(7, concurrency, TTL) instanceof SlotAttempt.Granted g) {
                            grants.incrementAndGet();
                            maxSeen.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                            inFlight.decrementAndGet();
                            assertThat(s.release(7, g.lease().token())).isTrue();
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : fs) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(grants.get()).isPositive();
        assertThat(maxSeen.get()).isLessThanOrEqualTo(concurrency);
        assertThat(load(7).inFlight()).isZero();
    }

    @Test
    void acquire_sameTokenTwice_holdsOneSlotAndRefreshesItsExpiry() {
        String token = Tokens.random();
        SlotLease first = granted(store.tryAcquire(1, 1, TTL, token));
        assertThat(first.token()).isEqualTo(token);
        elapse(Duration.ofSeconds(10));
        // The repeat of an acquisition whose reply was lost, possibly through another connection.
        SlotLease again = granted(client().tryAcquire(1, 1, TTL, token));
        assertThat(again).isEqualTo(new SlotLease(1, token, clock.instant().plus(TTL)));
        assertThat(load(1).inFlight()).isEqualTo(1);
        // Another token still finds the only slot taken.
        assertThat(store.tryAcquire(1, 1, TTL, Tokens.random())).isEqualTo(new SlotAttempt.Full(1));
        // The repeat moved the expiry: the slot outlives the first grant's expiry.
        elapse(Duration.ofSeconds(25));
        assertThat(load(1).inFlight()).isEqualTo(1);
        assertThat(store.release(1, token)).isTrue();
        assertThat(store.release(1, token)).isFalse();
        assertThat(load(1).inFlight()).isZero();
    }

    @Test
    void acquire_differentTokensRespectConcurrency_aRepeatIsGrantedAtFullConcurrencyAndInACooldown() {
        String a = Tokens.random();
        String b = Tokens.random();
        granted(store.tryAcquire(1, 2, TTL, a));
        granted(client().tryAcquire(1, 2, TTL, b));
        assertThat(store.tryAcquire(1, 2, TTL, Tokens.random())).isEqualTo(new SlotAttempt.Full(2));
        // A repeat of a granted acquisition is not a new slot: full concurrency does not refuse it.
        assertThat(granted(store.tryAcquire(1, 2, TTL, a)).token()).isEqualTo(a);
        assertThat(load(1).inFlight()).isEqualTo(2);

        // A cooldown reported after the grant refuses new slots but not the repeat of a held one.
        Instant until = clock.instant().plusSeconds(60);
        client().extendCooldown(1, CooldownKind.OVERLOADED, until);
        assertThat(store.tryAcquire(1, 5, TTL, Tokens.random())).isEqualTo(new SlotAttempt.CoolingDown(until));
        assertThat(granted(store.tryAcquire(1, 5, TTL, b)).token()).isEqualTo(b);
        assertThat(load(1).inFlight()).isEqualTo(2);
    }

    @Test
    void acquire_anExpiredTokenIsANewAcquisition() {
        String token = Tokens.random();
        granted(store.tryAcquire(1, 1, Duration.ofSeconds(5), token));
        elapse(Duration.ofSeconds(5));
        SlotLease other = granted(client().tryAcquire(1, 1, TTL, Tokens.random()));
        // The expired slot is gone: its token competes for a slot like any other.
        assertThat(store.tryAcquire(1, 1, TTL, token)).isEqualTo(new SlotAttempt.Full(1));
        assertThat(store.release(1, other.token())).isTrue();
        assertThat(granted(store.tryAcquire(1, 1, TTL, token)).token()).isEqualTo(token);
        assertThat(load(1).inFlight()).isEqualTo(1);
    }

    // ---- waiting ---------------------------------------------------------------------------

    @Test
    void enqueue_upToMaxWaiting_leaveAndExpiryFreePlaces() {
        WaitTicket a = store.tryEnqueue(1, 2, TTL).orElseThrow();
        WaitTicket b = client().tryEnqueue(1, 2, Duration.ofSeconds(10)).orElseThrow();
        assertThat(store.tryEnqueue(1, 2, TTL)).isEmpty();
        assertThat(load(1)).isEqualTo(new AccountLoad(0, 2, null));
        assertThat(store.leave(1, a.token())).isTrue();
        assertThat(store.leave(1, a.token())).isFalse();
        assertThat(store.tryEnqueue(1, 2, TTL)).isPresent();
        elapse(Duration.ofSeconds(10));
        assertThat(load(1).waiting()).isEqualTo(1);
        assertThat(store.leave(1, b.token())).isFalse();
        assertThat(store.tryEnqueue(1, 2, TTL)).isPresent();
    }

    // ---- loads -----------------------------------------------------------------------------

    @Test
    void loads_haveAnEntryForEveryIdInOrder() {
        granted(store.tryAcquire(3, 5, TTL));
        store.tryEnqueue(1, 5, TTL);
        Map<Long, AccountLoad> m = store.loads(List.of(5L, 3L, 1L));
        assertThat(m.keySet()).containsExactly(5L, 3L, 1L);
        assertThat(m.get(5L)).isEqualTo(AccountLoad.IDLE);
        assertThat(m.get(3L)).isEqualTo(new AccountLoad(1, 0, null));
        assertThat(m.get(1L)).isEqualTo(new AccountLoad(0, 1, null));
        assertThat(store.loads(List.of())).isEmpty();
    }

    // ---- cooldowns -------------------------------------------------------------------------

    @Test
    void cooldown_onlyExtends_andBlocksAcquisitionOfEveryClientUntilItEnds() {
        Instant t0 = clock.instant();
        Instant late = t0.plus(Duration.ofMinutes(30));
        assertThat(store.extendCooldown(1, CooldownKind.RATE_LIMITED, late)).isEqualTo(late);
        assertThat(client().extendCooldown(1, CooldownKind.RATE_LIMITED, t0.plusSeconds(60)))
                .isEqualTo(late);
        assertThat(store.extendCooldown(1, CooldownKind.OVERLOADED, t0.plusSeconds(60)))
                .isEqualTo(t0.plusSeconds(60));
        assertThat(load(1).coolingUntil()).isEqualTo(late);
        assertThat(client().tryAcquire(1, 5, TTL)).isEqualTo(new SlotAttempt.CoolingDown(late));

        elapse(Duration.ofMinutes(30));
        assertThat(load(1).coolingUntil()).isNull();
        granted(store.tryAcquire(1, 5, TTL));
        Instant later = clock.instant().plusSeconds(5);
        assertThat(store.extendCooldown(1, CooldownKind.RATE_LIMITED, later)).isEqualTo(later);
    }

    @Test
    void cooldown_millisecondPrecisionAndKindsAreSeparate() {
        Instant t = clock.instant().plusMillis(1234);
        store.extendCooldown(1, CooldownKind.TEMP_UNSCHEDULABLE, t);
        assertThat(store.extendCooldown(1, CooldownKind.OVERLOADED, t.minusMillis(1)))
                .isEqualTo(t.minusMillis(1));
        assertThat(load(1).coolingUntil()).isEqualTo(t);
        assertThat(load(2).coolingUntil()).isNull();
    }

    @Test
    void modelCooldown_coolsThatModelOnThatAccountOnly_extendOnly_sharedAcrossClients() {
        Instant t0 = clock.instant();
        Instant late = t0.plus(Duration.ofMinutes(30));
        assertThat(store.extendModelCooldown(1, "claude-opus-4", late)).isEqualTo(late);
        // A shorter report, from another client, never shortens it.
        assertThat(client().extendModelCooldown(1, "claude-opus-4", t0.plusSeconds(5)))
                .isEqualTo(late);

        SelectionStore other = client();
        assertThat(other.tryAcquire(1, "claude-opus-4", 5, TTL, Tokens.random()))
                .isEqualTo(new SlotAttempt.CoolingDown(late));
        // Other models of the account, requests without a model, and the model on other accounts are free.
        granted(other.tryAcquire(1, "claude-sonnet-4", 5, TTL, Tokens.random()));
        granted(other.tryAcquire(1, null, 5, TTL, Tokens.random()));
        granted(other.tryAcquire(2, "claude-opus-4", 5, TTL, Tokens.random()));
        assertThat(load(1).coolingUntil()).isNull();
        SelectionStore.Reading r = other.read(List.of(1L, 2L), null, "claude-opus-4");
        assertThat(r.loads().get(1L)).isEqualTo(new AccountLoad(2, 0, late));
        assertThat(r.loads().get(2L)).isEqualTo(new AccountLoad(1, 0, null));
        assertThat(coolingOf(other.read(List.of(1L), null, "claude-sonnet-4"), 1L))
                .isNull();

        // The later of the account's and the model's deadlines is the one reported.
        Instant later = t0.plus(Duration.ofHours(1));
        store.extendCooldown(1, CooldownKind.OVERLOADED, later);
        assertThat(other.tryAcquire(1, "claude-opus-4", 5, TTL, Tokens.random()))
                .isEqualTo(new SlotAttempt.CoolingDown(later));
        assertThat(coolingOf(other.read(List.of(1L), null, "claude-opus-4"), 1L))
                .isEqualTo(later);

        // At its deadline the model is free again, and a new, earlier deadline can be set after that.
        elapse(Duration.ofMinutes(30));
        assertThat(coolingOf(other.read(List.of(1L), null, "claude-opus-4"), 1L))
                .isEqualTo(later);
        elapse(Duration.ofMinutes(30));
        granted(other.tryAcquire(1, "claude-opus-4", 5, TTL, Tokens.random()));
        Instant again = clock.instant().plusSeconds(10);
        assertThat(store.extendModelCooldown(1, "claude-opus-4", again)).isEqualTo(again);
        assertThat(coolingOf(other.read(List.of(1L), null, "claude-opus-4"), 1L))
                .isEqualTo(again);
    }

    @Test
    void failureStreak_countsConsecutiveFailuresAcrossClients_restartsAfterTheWindow_endsWhenCleared() {
        Duration window = Duration.ofMinutes(10);
        assertThat(store.recordFailure(1, "rate_limited", window)).isEqualTo(1);
        assertThat(client().recordFailure(1, "rate_limited", window)).isEqualTo(2);
        // Streaks are per name and per account.
        assertThat(store.recordFailure(1, "overloaded", window)).isEqualTo(1);
        assertThat(store.recordFailure(2, "rate_limited", window)).isEqualTo(1);
        elapse(window.minusMillis(1));
        assertThat(client().recordFailure(1, "rate_limited", window)).isEqualTo(3);
        // The window counts from the last failure: a failure a whole window later starts a new streak.
        elapse(window);
        assertThat(store.recordFailure(1, "rate_limited", window)).isEqualTo(1);
        assertThat(store.recordFailure(1, "rate_limited", window)).isEqualTo(2);
        assertThat(store.recordFailure(1, "model:gpt-5", window)).isEqualTo(1);

        client().clearFailures(1, List.of("rate_limited", "model:gpt-5", "never-seen"));
        assertThat(store.recordFailure(1, "rate_limited", window)).isEqualTo(1);
        assertThat(store.recordFailure(1, "model:gpt-5", window)).isEqualTo(1);
        // Streaks not named are kept.
        assertThat(store.recordFailure(1, "overloaded", window)).isEqualTo(1);
        assertThat(store.recordFailure(2, "rate_limited", window)).isEqualTo(1);
        store.clearFailures(3, List.of("rate_limited"));
        store.clearFailures(1, List.of());
    }

    @Test
    void failureStreak_isAtomicAcrossClients() throws Exception {
        List<SelectionStore> stores = List.of(client(), client(), client(), client());
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Integer> counts = new CopyOnWriteArrayList<>();
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                SelectionStore s = stores.get(t % stores.size());
                fs.add(pool.submit(() -> {
                    for (int i = 0; i < 10; i++) {
                        counts.add(s.recordFailure(9, "overloaded", Duration.ofMinutes(10)));
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        // Every failure was counted once: the counts are exactly 1..80.
        assertThat(counts)
                .hasSize(80)
                .doesNotHaveDuplicates()
                .allSatisfy(n -> assertThat(n).isBetween(1, 80));
    }

    @Test
    void modelAndStreakArgumentsAreRejectedNamingThem() {
        assertThatThrownBy(() -> store.extendModelCooldown(1, "x".repeat(129), clock.instant()))
                .hasMessageContaining("model");
        assertThatThrownBy(() -> store.extendModelCooldown(1, "bad model", clock.instant()))
                .hasMessageContaining("model");
        assertThatThrownBy(() -> store.tryAcquire(1, "{tag}", 1, TTL, Tokens.random()))
                .hasMessageContaining("model");
        assertThatThrownBy(() -> store.recordFailure(1, "", Duration.ofMinutes(1)))
                .hasMessageContaining("streak");
        assertThatThrownBy(() -> store.recordFailure(1, "rate_limited", Duration.ZERO))
                .hasMessageContaining("streak window");
        assertThatThrownBy(() -> store.recordFailure(0, "rate_limited", Duration.ofMinutes(1)))
                .hasMessageContaining("account id");
        assertThat(load(1)).isEqualTo(AccountLoad.IDLE);
        assertThat(store.recordFailure(1, "rate_limited", Duration.ofMinutes(1)))
                .isEqualTo(1);
    }

    // ---- sticky ----------------------------------------------------------------------------

    @Test
    void sticky_bindReadRefreshExpire() {
        assertThat(store.sticky("1:anthropic:s")).isEmpty();
        store.bindSticky("1:anthropic:s", 42, Duration.ofMinutes(60));
        assertThat(client().sticky("1:anthropic:s")).hasValue(42);
        assertThat(store.sticky("2:anthropic:s")).isEmpty();
        elapse(Duration.ofMinutes(59));
        client().bindSticky("1:anthropic:s", 42, Duration.ofMinutes(60));
        elapse(Duration.ofMinutes(59));
        assertThat(store.sticky("1:anthropic:s")).hasValue(42);
        elapse(Duration.ofMinutes(1));
        assertThat(store.sticky("1:anthropic:s")).isEmpty();
    }

    @Test
    void sticky_dropIsCompareAndDelete() {
        store.bindSticky("k {with} braces: ünïcode", 4, Duration.ofMinutes(60));
        assertThat(store.dropSticky("k {with} braces: ünïcode", 44)).isFalse();
        assertThat(store.sticky("k {with} braces: ünïcode")).hasValue(4);
        client().bindSticky("k {with} braces: ünïcode", 5, Duration.ofMinutes(60));
        assertThat(store.dropSticky("k {with} braces: ünïcode", 4)).isFalse();
        assertThat(store.dropSticky("k {with} braces: ünïcode", 5)).isTrue();
        assertThat(store.sticky("k {with} braces: ünïcode")).isEmpty();
    }

    // ---- health and the binding index (decisions SP2-1, SP2-4) -----------------------------

    private AccountHealth healthOf(SelectionStore s, long id) {
        return s.read(List.of(id), null, null).health().getOrDefault(id, AccountHealth.NONE);
    }

    @Test
    void health_concurrentReportsOfThreeClientsAreAllCounted_andReadWithTheLoads() throws Exception {
        Duration halfLife = Duration.ofSeconds(60);
        assertThat(store.read(List.of(31L), null, null).health()).doesNotContainKey(31L);
        List<SelectionStore> clients = List.of(store, client(), client());
        int perThread = 40;
        var pool = java.util.concurrent.Executors.newFixedThreadPool(6);
        try {
            List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (int t = 0; t < 6; t++) {
                SelectionStore c = clients.get(t % 3);
                boolean failing = t % 3 == 0;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        c.recordHealth(31, failing, Duration.ofMillis(failing ? 3000 : 1000), halfLife);
                    }
                    return null;
                }));
            }
            for (var f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        // The clock stands still, so every report weighs 1: 240 reports, 80 of them failed, none lost.
        AccountHealth h = healthOf(client(), 31);
        assertThat(h.errorWeight()).isCloseTo(240, within(1e-6));
        assertThat(h.errorRate()).isCloseTo(80.0 / 240, within(1e-9));
        assertThat(h.ttftWeight()).isCloseTo(240, within(1e-6));
        assertThat(h.ttftMs()).isCloseTo((80 * 3000.0 + 160 * 1000.0) / 240, within(1e-6));
        assertThat(h.at()).isEqualTo(clock.instant());
        assertThat(healthOf(store, 32)).isEqualTo(AccountHealth.NONE);
    }

    @Test
    void health_reportsWeighHalfAfterAHalfLife_aReportWithoutTtftLeavesTheTtft() {
        Duration halfLife = Duration.ofSeconds(10);
        for (int i = 0; i < 4; i++) {
            store.recordHealth(33, true, Duration.ofSeconds(8), halfLife);
        }
        elapse(halfLife);
        AccountHealth before = healthOf(client(), 33);
        assertThat(before.errorSamples(clock.instant(), halfLife)).isCloseTo(2, within(1e-9));
        // Weight 2 of failures, then one success: rate 1/3, weight 3.
        AccountHealth after = client().recordHealth(33, false, null, halfLife);
        assertThat(after.errorRate()).isCloseTo(2.0 / 3, within(1e-9));
        assertThat(after.errorWeight()).isCloseTo(3, within(1e-9));
        assertThat(after.ttftMs()).isCloseTo(8000, within(1e-9));
        assertThat(after.ttftWeight()).isCloseTo(2, within(1e-9));
        assertThat(healthOf(store, 33)).isEqualTo(after);
        // It matches the arithmetic that defines it.
        AccountHealth model = AccountHealth.NONE;
        Instant t0 = clock.instant().minus(halfLife);
        for (int i = 0; i < 4; i++) {
            model = model.plus(true, 8000, t0, halfLife);
        }
        model = model.plus(false, -1, clock.instant(), halfLife);
        assertThat(after.errorRate()).isCloseTo(model.errorRate(), within(1e-9));
        assertThat(after.ttftWeight()).isCloseTo(model.ttftWeight(), within(1e-9));
    }

    @Test
    void health_badArgumentsAreRefusedBeforeAnythingIsWritten() {
        assertThatThrownBy(() -> store.recordHealth(34, false, Duration.ofMillis(-1), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ttft");
        assertThatThrownBy(() -> store.recordHealth(0, false, null, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("account id");
        assertThat(healthOf(store, 34)).isEqualTo(AccountHealth.NONE);
    }

    @Test
    void bindingIndex_dropsTheLiveBindingsOfAnAccount_orOfOneGroup_notReboundOnes() {
        Duration ttl = Duration.ofMinutes(60);
        store.bindSticky("1:openai:a", 1, 7, ttl);
        store.bindSticky("1:openai:b", 1, 7, ttl);
        client().bindSticky("1:openai:c", 1, 7, ttl);
        store.bindSticky("2:openai:a", 2, 7, ttl);
        store.bindSticky("1:openai:d", 1, 8, ttl);
        // Re-bound to 8 since: the drop of 7 must leave it.
        client().bindSticky("1:openai:c", 1, 8, ttl);

        assertThat(client().dropStickyBindings(7, 1)).isEqualTo(2);
        assertThat(store.sticky("1:openai:a")).isEmpty();
        assertThat(store.sticky("1:openai:b")).isEmpty();
        assertThat(store.sticky("1:openai:c")).hasValue(8);
        assertThat(store.sticky("2:openai:a")).hasValue(7);
        assertThat(store.sticky("1:openai:d")).hasValue(8);
        assertThat(store.dropStickyBindings(7, 1)).isZero();

        assertThat(store.dropStickyBindings(7)).isEqualTo(1);
        assertThat(store.sticky("2:openai:a")).isEmpty();
        assertThat(store.dropStickyBindings(7)).isZero();
        assertThat(store.dropStickyBindings(8)).isEqualTo(2);
        assertThat(store.sticky("1:openai:c")).isEmpty();
    }

    @Test
    void bindingIndex_anExpiredBindingIsNotCounted_aRefreshedOneIs() {
        store.bindSticky("3:openai:x", 3, 9, Duration.ofMinutes(10));
        store.bindSticky("3:openai:y", 3, 9, Duration.ofMinutes(10));
        elapse(Duration.ofMinutes(9));
        client().bindSticky("3:openai:y", 3, 9, Duration.ofMinutes(10));
        elapse(Duration.ofMinutes(2));
        assertThat(store.dropStickyBindings(9, 3)).isEqualTo(1);
        assertThat(store.sticky("3:openai:y")).isEmpty();
        assertThatThrownBy(() -> store.dropStickyBindings(9, -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("group id");
    }

    @Test
    void read_returnsLoadsAndTheBindingAsTheSeparateReadsDo() {
        granted(store.tryAcquire(1, 5, TTL));
        store.tryEnqueue(2, 5, TTL);
        Instant until = clock.instant().plusSeconds(30);
        store.extendCooldown(3, CooldownKind.RATE_LIMITED, until);
        store.bindSticky("7:openai:s", 2, Duration.ofMinutes(60));
        SelectionStore.Reading r = client().read(List.of(1L, 2L, 3L, 4L), "7:openai:s");
        assertThat(r.loads()).isEqualTo(client().loads(List.of(1L, 2L, 3L, 4L)));
        assertThat(r.loads().get(1L)).isEqualTo(new AccountLoad(1, 0, null));
        assertThat(r.loads().get(2L)).isEqualTo(new AccountLoad(0, 1, null));
        assertThat(r.loads().get(3L)).isEqualTo(new AccountLoad(0, 0, until));
        assertThat(r.loads().get(4L)).isEqualTo(AccountLoad.IDLE);
        assertThat(r.sticky()).hasValue(2);
        assertThat(store.read(List.of(1L), null).sticky()).isEmpty();
        assertThat(store.read(List.of(), "7:openai:other").sticky()).isEmpty();
        assertThat(store.read(List.of(), "7:openai:s").sticky()).hasValue(2);
        elapse(Duration.ofMinutes(60));
        assertThat(store.read(List.of(1L), "7:openai:s").sticky()).isEmpty();
    }

    // ---- sweep and arguments ---------------------------------------------------------------

    @Test
    void sweep_deletesOnlyExpiredEntries() {
        granted(store.tryAcquire(1, 5, Duration.ofSeconds(5)));
        granted(store.tryAcquire(1, 5, TTL));
        store.tryEnqueue(2, 5, Duration.ofSeconds(5));
        elapse(Duration.ofSeconds(5));
        assertThat(store.sweep(List.of(1L, 2L, 3L))).isEqualTo(2);
        assertThat(store.sweep(List.of(1L, 2L))).isZero();
        assertThat(load(1).inFlight()).isEqualTo(1);
    }

    @Test
    // Passes null on purpose: the contract is that it is refused.
    @SuppressWarnings("NullAway")
    void badArgumentsAreRejectedNamingThem() {
        assertThatThrownBy(() -> store.tryAcquire(0, 1, TTL)).hasMessageContaining("account id");
        assertThatThrownBy(() -> store.tryAcquire(1, 1, Duration.ZERO)).hasMessageContaining("slot ttl");
        assertThatThrownBy(() -> store.tryAcquire(1, 1, TTL, "not-a-token")).hasMessageContaining("slot token");
        assertThatThrownBy(() -> store.tryAcquire(1, 1, TTL, null)).hasMessageContaining("slot token");
        assertThat(load(1).inFlight()).isZero();
        assertThatThrownBy(() -> store.release(1, "x")).hasMessageContaining("slot token");
        assertThatThrownBy(() -> store.leave(1, "X".repeat(32))).hasMessageContaining("wait token");
        assertThatThrownBy(() -> store.tryEnqueue(1, 1, Duration.ofSeconds(-1))).hasMessageContaining("wait ttl");
        assertThatThrownBy(() -> store.sticky("")).hasMessageContaining("binding key");
        assertThat(store.release(1, Tokens.random())).isFalse();
        assertThat(store.tryEnqueue(1, 0, TTL)).isEqualTo(Optional.empty());
    }

    // ---- quota reports (decision SP4) -------------------------------------------------------------

    private static QuotaUsage quotaOf(Map<Long, AccountLoad> loads, long id) {
        return Objects.requireNonNull(loads.get(id), "no load for " + id).quota();
    }

    private static QuotaUsage.Window w(double used, Instant reset) {
        return new QuotaUsage.Window(used, reset);
    }

    @Test
    void quota_isReadWithTheLoads_sharedAcrossClients_andExpiresAtItsReset() {
        Instant t0 = clock.instant();
        Instant r5 = t0.plus(Duration.ofHours(2));
        Instant r7 = t0.plus(Duration.ofDays(3));
        QuotaUsage q = new QuotaUsage(w(97.5, r5), w(40, r7));
        assertThat(store.reportQuota(1, q)).isEqualTo(q);
        SelectionStore other = client();
        assertThat(quotaOf(other.read(List.of(1L, 2L), null, null).loads(), 1L)).isEqualTo(q);
        assertThat(quotaOf(other.loads(List.of(2L)), 2L)).isEqualTo(QuotaUsage.NONE);
        // At its reset the 5-hour window is gone; the 7-day one stays until its own.
        elapse(Duration.ofHours(2));
        assertThat(quotaOf(other.loads(List.of(1L)), 1L)).isEqualTo(new QuotaUsage(null, w(40, r7)));
        elapse(Duration.ofDays(3));
        assertThat(quotaOf(other.loads(List.of(1L)), 1L)).isEqualTo(QuotaUsage.NONE);
    }

    @Test
    void quota_aStaleReportNeverPausesAndAnOlderWindowNeverOverwritesANewer() {
        Instant t0 = clock.instant();
        // A report whose reset has passed is ignored.
        assertThat(store.reportQuota(1, new QuotaUsage(w(100, t0), w(100, t0.minusSeconds(1)))))
                .isEqualTo(QuotaUsage.NONE);
        assertThat(load(1).quota()).isEqualTo(QuotaUsage.NONE);

        Instant newer = t0.plus(Duration.ofHours(4));
        store.reportQuota(1, new QuotaUsage(w(10, newer), null));
        // An older window's report (reset an hour before), delivered late by another client: ignored.
        QuotaUsage kept = client().reportQuota(1, new QuotaUsage(w(99, t0.plus(Duration.ofHours(3))), null));
        assertThat(kept).isEqualTo(new QuotaUsage(w(10, newer), null));
        assertThat(load(1).quota()).isEqualTo(kept);
        // The same window reported a few seconds apart: the higher used-% and the later reset.
        store.reportQuota(1, new QuotaUsage(w(55.25, newer.minusSeconds(2)), null));
        store.reportQuota(1, new QuotaUsage(w(30, newer.plusSeconds(1)), null));
        assertThat(load(1).quota()).isEqualTo(new QuotaUsage(w(55.25, newer.plusSeconds(1)), null));
        // A newer window replaces it, its lower used-% included.
        Instant next = newer.plus(Duration.ofHours(5));
        store.reportQuota(1, new QuotaUsage(w(1, next), null));
        assertThat(load(1).quota()).isEqualTo(new QuotaUsage(w(1, next), null));
    }
}
