package dev.roster.core.nearcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.config.NearCacheConfig;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.Invalidation;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ProjectionUnavailableException;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.projection.Subscription;
import dev.roster.testkit.TestClock;
import dev.roster.testkit.fake.InMemoryProjection;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The near cache's own rules, one at a time, on a fake application clock and a projection whose
 * answers the test sets: what {@link NearCache#get} serves and for how long, what {@link
 * NearCache#load}/{@link NearCache#offer} install, and what invalidations and the version check do.
 * Written to kill the mutants PIT found surviving (docs/testing.md).
 */
class NearCacheMutationTest {
    private static final Bucket B = Bucket.of(0, "openai", Mode.SINGLE);
    private static final Bucket C = Bucket.of(0, "gemini", Mode.SINGLE);
    private static final String G1 = "gen1";
    private static final String G2 = "gen2";
    private static final Duration MAX_STALE = Duration.ofSeconds(5);

    private final TestClock clock = TestClock.at(TestClock.T0);
    private final ScriptedProjection scripted = new ScriptedProjection();
    private final Set<String> accepted = ConcurrentHashMap.newKeySet();
    private NearCache cache;

    @AfterEach
    void close() {
        if (cache != null) {
            cache.close();
        }
    }

    private NearCache cache(Duration checkInterval, int maxBuckets) {
        accepted.add(G1);
        accepted.add(G2);
        NearCacheConfig config =
                NearCacheConfig.DEFAULTS.withTiming(MAX_STALE, checkInterval).withMaxBuckets(maxBuckets);
        cache = new NearCache(scripted.projection, accepted::contains, clock, config);
        return cache;
    }

    /** A cache whose version check effectively never runs during a test. */
    private NearCache cache() {
        return cache(Duration.ofMillis(4_999), 10);
    }

    private static final Snapshot NOTHING_HELD =
            new Snapshot(Bucket.of(99, "openai", Mode.SINGLE), "none", 1, List.of());

    private static Snapshot snap(Bucket b, String gen, long version) {
        return new Snapshot(b, gen, version, List.of());
    }

    @Test
    void get_servesUpToMaxStaleInclusive_andNotOneMillisecondLonger() {
        NearCache c = cache();
        assertThat(c.get(B)).as("never loaded").isNull();
        scripted.hold(snap(B, G1, 3));
        NearCache.Entry loaded = c.load(B);
        assertThat(c.get(B)).isSameAs(loaded);
        clock.advance(MAX_STALE);
        assertThat(c.get(B)).as("exactly max_stale old is still served").isSameAs(loaded);
        clock.advance(Duration.ofMillis(1));
        assertThat(c.get(B)).as("past max_stale").isNull();
        assertThat(c.stats().hits()).isEqualTo(2);
        assertThat(c.stats().staleMisses()).isEqualTo(1);
        assertThat(c.stats().loads()).isEqualTo(1);
        assertThat(c.cachedBuckets()).containsExactly(B);
        assertThat(c.stats().buckets()).isEqualTo(1);
    }

    @Test
    void everyReRead_passesTheHeldSnapshot_soTheProjectionTransfersOnlyWhatChanged() {
        NearCache c = cache();
        Snapshot first = snap(B, G1, 1);
        scripted.hold(first);
        c.load(B);
        assertThat(scripted.passedHeld.poll()).as("a cold load holds nothing").isSameAs(NOTHING_HELD);
        Snapshot second = snap(B, G1, 2);
        scripted.hold(second);
        c.checkAll();
        assertThat(scripted.passedHeld.poll())
                .as("the check holds the loaded one")
                .isSameAs(first);
        clock.advance(MAX_STALE.plusMillis(1));
        c.load(B);
        assertThat(scripted.passedHeld.poll())
                .as("a stale load still holds the entry")
                .isSameAs(second);
    }

    @Test
    void get_afterClear_isNull() {
        NearCache c = cache();
        scripted.hold(snap(B, G1, 1));
        c.load(B);
        c.clear();
        assertThat(c.get(B)).isNull();
        assertThat(c.cachedBuckets()).isEmpty();
    }

    @Test
    void load_ofMissOrUnacceptedGeneration_servesNothing() {
        NearCache c = cache();
        assertThat(c.load(B)).as("projection has no snapshot").isNull();
        scripted.hold(snap(B, "other", 9));
        assertThat(c.load(B)).as("generation not accepted").isNull();
        assertThat(c.get(B)).isNull();
    }

    @Test
    void load_rethrowsTheProjectionsOwnError() {
        NearCache c = cache();
        scripted.failReads.set(true);
        assertThatThrownBy(() -> c.load(B))
                .isInstanceOf(ProjectionUnavailableException.class)
                .hasMessageContaining("scripted outage");
    }

    @Test
    void load_anOlderVersionAfterANewerOne_keepsServingTheNewer() {
        NearCache c = cache();
        scripted.hold(snap(B, G1, 5));
        NearCache.Entry newer = c.load(B);
        scripted.hold(snap(B, G1, 4));
        NearCache.Entry served = c.load(B);
        assertThat(served).as("the older read returns what is held, not null").isNotNull();
        assertThat(served.snapshot().version()).isEqualTo(5);
        assertThat(c.get(B)).isSameAs(newer);
    }

    @Test
    void load_ofTheHeldVersion_confirmsIt() {
        NearCache c = cache();
        scripted.hold(snap(B, G1, 5));
        c.load(B);
        clock.advance(Duration.ofSeconds(4));
        NearCache.Entry confirmed = c.load(B);
        assertThat(confirmed.snapshot().version()).isEqualTo(5);
        clock.advance(Duration.ofSeconds(4));
        assertThat(c.get(B)).as("confirmed 4 s ago, so still fresh").isNotNull();
    }

    @Test
    void load_aNewerGenerationWins_evenWithALowerVersion_andTheOldOneNeverComesBack() {
        NearCache c = cache();
        scripted.hold(snap(B, G1, 7));
        c.load(B);
        scripted.hold(snap(B, G2, 1));
        assertThat(c.load(B).snapshot().generation()).isEqualTo(G2);
        scripted.hold(snap(B, G1, 8));
        NearCache.Entry e = c.load(B);
        assertThat(e.snapshot().generation()).isEqualTo(G2);
        assertThat(e.snapshot().version()).isEqualTo(1);
    }

    @Test
    void fullCache_loadsAndReturnsButDoesNotCache_andOfferReturnsNull() {
        NearCache c = cache(Duration.ofMillis(4_999), 1);
        scripted.hold(snap(B, G1, 1));
        scripted.hold(snap(C, G1, 2));
        assertThat(c.load(B)).isNotNull();
        NearCache.Entry uncached = c.load(C);
        assertThat(uncached).as("read and returned although there is no room").isNotNull();
        assertThat(uncached.snapshot().version()).isEqualTo(2);
        assertThat(c.cachedBuckets()).containsExactly(B);
        assertThat(c.offer(snap(C, G1, 3), c.retireMark(C))).isNull();
        assertThat(c.offer(snap(B, G1, 4), c.retireMark(B)).snapshot().version())
                .isEqualTo(4);
    }

    @Test
    void offer_installsOnlyNewer_andReturnsWhatIsServed() {
        NearCache c = cache();
        NearCache.Entry first = c.offer(snap(B, G1, 3), c.retireMark(B));
        assertThat(first.snapshot().version()).isEqualTo(3);
        assertThat(c.offer(snap(B, G1, 2), c.retireMark(B))).isSameAs(first);
        assertThat(c.offer(snap(B, G1, 4), c.retireMark(B)).snapshot().version())
                .isEqualTo(4);
        assertThat(c.get(B).snapshot().version()).isEqualTo(4);
    }

    @Test
    void entryOrder_isGenerationOrdinalThenVersion() {
        NearCache.Entry e = new NearCache.Entry(snap(B, G1, 5), 2, 0);
        assertThat(e.newerThan(1, 99)).as("higher ordinal").isTrue();
        assertThat(e.newerThan(2, 4)).as("same ordinal, higher version").isTrue();
        assertThat(e.newerThan(2, 5)).as("same").isFalse();
        assertThat(e.newerThan(2, 6)).as("same ordinal, lower version").isFalse();
        assertThat(e.newerThan(3, 1)).as("lower ordinal").isFalse();
    }

    @Test
    void invalidation_thatIsNotNewerThanTheHeldVersion_causesNoRead() {
        NearCache c = cache().start();
        scripted.hold(snap(B, G1, 5));
        c.load(B);
        long reads = scripted.reads.get();
        scripted.invalidate(new Invalidation(B, G1, 5));
        scripted.invalidate(new Invalidation(B, G1, 4));
        scripted.invalidate(new Invalidation(C, G1, 9)); // not cached: ignored
        assertThat(c.stats().invalidations()).isEqualTo(3);
        assertThat(c.stats().refreshes()).isZero();
        assertThat(scripted.reads.get()).isEqualTo(reads);
    }

    @Test
    void invalidation_ofANewerVersionOrAnotherGeneration_installsIt() {
        NearCache c = cache().start();
        scripted.hold(snap(B, G1, 5));
        c.load(B);
        scripted.hold(snap(B, G1, 6));
        scripted.invalidate(new Invalidation(B, G1, 6));
        await().atMost(Duration.ofSeconds(10)).until(() -> c.get(B).snapshot().version() == 6);
        scripted.hold(snap(B, G2, 1));
        scripted.invalidate(new Invalidation(B, G2, 1));
        await().atMost(Duration.ofSeconds(10))
                .until(() -> c.get(B).snapshot().generation().equals(G2));
        assertThat(c.stats().refreshes()).isEqualTo(2);
    }

    @Test
    void invalidation_whoseReadFindsAnUnacceptedGeneration_keepsTheHeldEntry() {
        NearCache c = cache().start();
        scripted.hold(snap(B, G1, 5));
        c.load(B);
        scripted.hold(snap(B, "rogue", 9));
        scripted.invalidate(new Invalidation(B, "rogue", 9));
        await().atMost(Duration.ofSeconds(10)).until(() -> c.stats().refreshes() == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> scripted.reads.get() >= 2);
        assertThat(c.get(B).snapshot().generation()).isEqualTo(G1);
    }

    @Test
    void versionCheck_healsALostInvalidation_andCountsOnlyCachedBuckets() {
        NearCache c = cache(Duration.ofMillis(20), 10);
        scripted.hold(snap(B, G1, 1));
        c.load(B);
        scripted.hold(snap(C, G1, 1));
        c.load(C);
        scripted.hold(snap(B, G1, 2)); // no invalidation sent: a lost message
        c.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> c.get(B).snapshot().version() == 2);
        await().atMost(Duration.ofSeconds(10)).until(() -> c.stats().checks() >= 6);
        assertThat(c.stats().healed())
                .as("only B's check brought a new version")
                .isEqualTo(1);
    }

    @Test
    void versionCheck_skipsBucketsWithoutAnEntry() {
        NearCache c = cache(Duration.ofMillis(20), 10);
        scripted.hold(snap(B, G1, 1));
        c.load(B);
        c.clear();
        long readsBefore = scripted.reads.get();
        scripted.failSubscribe.set(true);
        c.start();
        // The retried subscription shows that at least one check ran after the start.
        scripted.failSubscribe.set(false);
        await().atMost(Duration.ofSeconds(10)).until(() -> scripted.subscriptions.get() >= 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> c.stats().subscribed());
        assertThat(c.stats().checks()).isZero();
        assertThat(scripted.reads.get()).isEqualTo(readsBefore);
    }

    @Test
    void versionCheck_retriesAFailedSubscription() {
        scripted.failSubscribe.set(true);
        NearCache c = cache(Duration.ofMillis(20), 10).start();
        assertThat(c.stats().subscribed()).isFalse();
        scripted.failSubscribe.set(false);
        await().atMost(Duration.ofSeconds(10)).until(() -> c.stats().subscribed());
        scripted.hold(snap(B, G1, 1));
        c.load(B);
        scripted.hold(snap(B, G1, 2));
        scripted.invalidate(new Invalidation(B, G1, 2));
        await().atMost(Duration.ofSeconds(10)).until(() -> c.stats().invalidations() == 1);
    }

    @Test
    void missInTheCurrentGeneration_retiresTheEntry_butAFlushedProjectionKeepsServing() {
        NearCache c = cache().start();
        scripted.hold(snap(B, G1, 1));
        c.load(B);
        scripted.generation.set(null); // flushed: no generation stored
        scripted.drop(B);
        scripted.invalidate(new Invalidation(B, G1, 2));
        await().atMost(Duration.ofSeconds(10)).until(() -> c.stats().refreshes() == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> scripted.generationReads.get() >= 1);
        assertThat(c.get(B))
                .as("kept until max_stale while the projection is rebuilt")
                .isNotNull();

        scripted.generation.set(new Generation("unknown", "fp"));
        scripted.invalidate(new Invalidation(B, G1, 3));
        await().atMost(Duration.ofSeconds(10)).until(() -> c.stats().refreshes() == 2);
        await().atMost(Duration.ofSeconds(10)).until(() -> scripted.generationReads.get() >= 2);
        assertThat(c.get(B))
                .as("a generation this instance does not accept retires nothing")
                .isNotNull();

        scripted.generation.set(new Generation(G1, "fp"));
        scripted.invalidate(new Invalidation(B, G1, 4));
        await().atMost(Duration.ofSeconds(10)).until(() -> c.get(B) == null);
    }

    @Test
    void failingRefresh_keepsTheHeldEntry() {
        NearCache c = cache().start();
        scripted.hold(snap(B, G1, 1));
        c.load(B);
        scripted.failReads.set(true);
        scripted.invalidate(new Invalidation(B, G1, 2));
        await().atMost(Duration.ofSeconds(10)).until(() -> c.stats().refreshes() == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> scripted.failedReads.get() >= 1);
        assertThat(c.get(B).snapshot().version()).isEqualTo(1);
    }

    @Test
    void close_withoutStart_isHarmless_andCloseStopsThreadsAndSubscription() {
        cache().close();
        NearCache c = cache(Duration.ofMillis(20), 10).start();
        assertThat(scripted.listeners).hasSize(1);
        c.close();
        assertThat(scripted.listeners).as("subscription closed").isEmpty();
        // close() shuts the executors down without joining them, so a worker may still be unwinding.
        await("near-cache threads end")
                .atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(Thread.getAllStackTraces().keySet())
                        .noneMatch(t -> t.isAlive() && t.getName().startsWith("roster-nearcache-")));
        assertThatThrownBy(c::start).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void offer_ofAGenerationThisInstanceDoesNotAccept_returnsWhatIsServed() {
        NearCache c = cache();
        NearCache.Entry held = c.offer(snap(B, G1, 3), c.retireMark(B));
        assertThat(c.offer(snap(B, "rogue", 9), c.retireMark(B))).isSameAs(held);
        assertThat(c.get(B)).isSameAs(held);
    }

    @Test
    void offer_withAMarkTakenBeforeARetire_installsNothingAndReturnsWhatIsServedNow() {
        NearCache c = cache();
        c.checkAll(); // subscribes (nothing cached yet, so nothing is read)
        c.offer(snap(B, G1, 1), c.retireMark(B));
        long before = c.retireMark(B);
        scripted.invalidate(Invalidation.retiredBucket(B));
        assertThat(c.get(B)).as("retired: dropped at once").isNull();
        NearCache.Entry reopened = c.offer(snap(B, G1, 3), c.retireMark(B));
        assertThat(reopened.snapshot().version()).isEqualTo(3);
        // Read before the retire: it may be the retired content, so it must not replace anything.
        assertThat(c.offer(snap(B, G1, 4), before)).isSameAs(reopened);
        assertThat(c.get(B)).isSameAs(reopened);
    }

    @Test
    void versionCheck_countsAHealOnlyWhenItInstalledANewerVersion() {
        NearCache c = cache();
        c.offer(snap(B, G1, 1), c.retireMark(B));
        scripted.hold(snap(B, "rogue", 9));
        c.checkAll();
        assertThat(c.stats().checks()).isEqualTo(1);
        assertThat(c.stats().healed()).as("unaccepted generation").isZero();
        scripted.failReads.set(true);
        c.checkAll();
        assertThat(c.stats().healed()).as("failed read").isZero();
        scripted.failReads.set(false);
        scripted.drop(B);
        scripted.generation.set(null); // flushed: the entry is kept until max_stale
        c.checkAll();
        assertThat(c.stats().healed()).as("miss").isZero();
        assertThat(c.get(B).snapshot().version()).isEqualTo(1);
        scripted.generation.set(new Generation(G1, "fp"));
        scripted.hold(snap(B, G1, 2));
        c.checkAll();
        assertThat(c.stats().healed()).isEqualTo(1);
        assertThat(c.stats().checks()).isEqualTo(4);
    }

    @Test
    void close_fromAnInterruptedThread_whileItsThreadsAreStillReading_leavesTheThreadInterrupted() {
        // The projection holds what is cached, so a check that runs before the gate only confirms it
        // (a miss would drop the entry, and the check thread would then have nothing to read).
        scripted.hold(snap(B, G1, 1));
        NearCache c = cache(Duration.ofMillis(20), 10).start();
        c.offer(snap(B, G1, 1), c.retireMark(B));
        // Reads wait on a future, which ignores interrupts: both near-cache threads are still alive
        // when close() waits for them, so an interrupted caller's waits throw and reach the catches.
        CompletableFuture<Void> gate = new CompletableFuture<>();
        scripted.gate.set(gate);
        try {
            scripted.hold(snap(B, G1, 2));
            scripted.invalidate(new Invalidation(B, G1, 2)); // the refresh thread reads B
            await("refresh and check threads held in a read")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> scripted.gated.contains("roster-nearcache-refresh")
                            && scripted.gated.stream().anyMatch(n -> n.startsWith("roster-nearcache-check-")));
            Thread.currentThread().interrupt();
            c.close();
            // Thread.interrupted() also clears the flag, so the rest of the suite runs uninterrupted.
            assertThat(Thread.interrupted())
                    .as("close must not swallow the caller's interrupt")
                    .isTrue();
            assertThat(scripted.listeners).isEmpty();
        } finally {
            gate.complete(null);
        }
        await("near-cache threads end once their reads return")
                .atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(Thread.getAllStackTraces().keySet())
                        .noneMatch(t -> t.isAlive() && t.getName().startsWith("roster-nearcache-")));
    }

    @Test
    void twoThreadsOrderingTheSameNewGenerationAtOnce_getOneOrdinal_soAnOlderVersionNeverComesBack() throws Exception {
        String g3 = "gen3";
        CompletableFuture<Void> firstInside = new CompletableFuture<>();
        CompletableFuture<Void> release = new CompletableFuture<>();
        AtomicBoolean first = new AtomicBoolean(true);
        // The predicate runs inside the ordering lock for a generation this instance has not ordered
        // yet: holding its first call for gen3 holds the lock while a second thread misses the map.
        Predicate<String> accepts = g -> {
            if (g.equals(g3) && first.compareAndSet(true, false)) {
                firstInside.complete(null);
                release.join();
            }
            return Set.of(G1, G2, g3).contains(g);
        };
        NearCacheConfig config = NearCacheConfig.DEFAULTS
                .withTiming(MAX_STALE, Duration.ofMillis(4_999))
                .withMaxBuckets(10);
        cache = new NearCache(scripted.projection, accepts::test, clock, config);
        NearCache c = cache;
        FutureTask<NearCache.Entry> a = new FutureTask<>(() -> c.offer(snap(B, g3, 9), c.retireMark(B)));
        FutureTask<NearCache.Entry> b = new FutureTask<>(() -> c.offer(snap(C, g3, 1), c.retireMark(C)));
        Thread ta = Thread.ofPlatform().name("orders-gen3-first").start(a);
        Thread tb;
        try {
            firstInside.get(10, TimeUnit.SECONDS);
            tb = Thread.ofPlatform().name("orders-gen3-second").start(b);
            // The second thread has missed the map and waits for the ordering lock.
            await("second thread waits for the ordering lock")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> tb.getState() == Thread.State.BLOCKED
                            && List.of(tb.getStackTrace()).stream()
                                    .anyMatch(f -> f.getMethodName().equals("ordinalOf")));
        } finally {
            release.complete(null);
        }
        NearCache.Entry fromA = a.get(10, TimeUnit.SECONDS);
        NearCache.Entry fromB = b.get(10, TimeUnit.SECONDS);
        ta.join();
        tb.join();
        assertThat(fromA.snapshot().version()).isEqualTo(9);
        assertThat(fromB.ordinal()).as("one generation, one ordinal").isEqualTo(fromA.ordinal());
        // A second, higher ordinal for gen3 would make this older version look like a newer generation.
        assertThat(c.offer(snap(B, g3, 5), c.retireMark(B)).snapshot().version())
                .isEqualTo(9);
        assertThat(c.get(B).snapshot().version())
                .as("the reader never sees gen3 go back from 9 to 5")
                .isEqualTo(9);
    }

    /** A projection whose snapshot reads, generation and subscription the test sets; the rest is in memory. */
    private static final class ScriptedProjection {
        final Map<Bucket, Snapshot> held = new ConcurrentHashMap<>();
        final AtomicBoolean failReads = new AtomicBoolean();
        // When set, every snapshot read records its thread's name and waits (uninterruptibly) for it.
        final AtomicReference<CompletableFuture<Void>> gate = new AtomicReference<>();
        final Set<String> gated = ConcurrentHashMap.newKeySet();
        final AtomicBoolean failSubscribe = new AtomicBoolean();
        final AtomicLong reads = new AtomicLong();
        // What each refresh said it held (NOTHING_HELD for null), in call order.
        final java.util.Queue<Snapshot> passedHeld = new java.util.concurrent.ConcurrentLinkedQueue<>();
        final AtomicLong failedReads = new AtomicLong();
        final AtomicLong generationReads = new AtomicLong();
        final AtomicLong subscriptions = new AtomicLong();
        final AtomicReference<Generation> generation = new AtomicReference<>(new Generation(G1, "fp"));
        final Set<Consumer<Invalidation>> listeners = ConcurrentHashMap.newKeySet();
        final InMemoryProjection rest = new InMemoryProjection();
        final Projection projection = (Projection) Proxy.newProxyInstance(
                Projection.class.getClassLoader(), new Class<?>[] {Projection.class}, (proxy, m, args) -> {
                    switch (m.getName()) {
                        case "readSnapshot" -> {
                            if (args.length == 1) {
                                return read((Bucket) args[0]);
                            }
                        }
                        case "refreshSnapshot" -> {
                            passedHeld.add(args[1] == null ? NOTHING_HELD : (Snapshot) args[1]);
                            return read((Bucket) args[0]);
                        }
                        case "generation" -> {
                            generationReads.incrementAndGet();
                            Generation g = generation.get();
                            return g == null ? Lookup.miss() : Lookup.hit(g);
                        }
                        case "subscribe" -> {
                            return subscribe(cast(args[0]));
                        }
                        default -> {}
                    }
                    try {
                        return m.invoke(rest, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });

        @SuppressWarnings("unchecked")
        private static Consumer<Invalidation> cast(Object o) {
            return (Consumer<Invalidation>) o;
        }

        void hold(Snapshot s) {
            held.put(s.bucket(), s);
        }

        void drop(Bucket b) {
            held.remove(b);
        }

        void invalidate(Invalidation inv) {
            listeners.forEach(l -> l.accept(inv));
        }

        private Lookup<Snapshot> read(Bucket b) {
            reads.incrementAndGet();
            CompletableFuture<Void> g = gate.get();
            if (g != null) {
                gated.add(Thread.currentThread().getName());
                g.join();
            }
            if (failReads.get()) {
                failedReads.incrementAndGet();
                throw new ProjectionUnavailableException("scripted outage", new RuntimeException("down"));
            }
            Snapshot s = held.get(b);
            return s == null ? Lookup.miss() : Lookup.hit(s);
        }

        private Subscription subscribe(Consumer<Invalidation> l) {
            if (failSubscribe.get()) {
                throw new ProjectionUnavailableException("scripted subscribe failure", new RuntimeException("down"));
            }
            subscriptions.incrementAndGet();
            listeners.add(l);
            return () -> listeners.remove(l);
        }
    }
}
