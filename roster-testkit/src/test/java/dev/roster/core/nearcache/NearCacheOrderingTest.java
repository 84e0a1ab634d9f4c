package dev.roster.core.nearcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.config.NearCacheConfig;
import dev.roster.core.nearcache.HandDrivenProjection.PendingRead;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.ProjectionUnavailableException;
import dev.roster.core.projection.Snapshot;
import dev.roster.testkit.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The near cache's central guarantee, deterministically: whatever order reads complete in, whatever
 * invalidations arrive and whether Redis answers or fails, a reader never sees a bucket at an older
 * (generation, version) than one it has already seen. The projection is driven by hand (the test
 * decides when each read answers and with what), staleness runs on a fake clock, and the version check
 * runs only when a test calls it (its real-time period is far beyond any test).
 */
class NearCacheOrderingTest {
    private static final Duration MAX_STALE = Duration.ofMinutes(10);
    private static final NearCacheConfig CONFIG =
            NearCacheConfig.DEFAULTS.withTiming(MAX_STALE, MAX_STALE.minusMinutes(1));
    private static final Bucket A = Bucket.of(0, "openai", Mode.SINGLE);
    private static final Bucket B = Bucket.of(0, "anthropic", Mode.SINGLE);
    /** A bucket whose invalidation, once applied, shows that the refresh thread finished what came before. */
    private static final Bucket MARK = Bucket.of(0, "gemini", Mode.SINGLE);

    private final TestClock clock = TestClock.at(TestClock.T0);
    private final HandDrivenProjection projection = new HandDrivenProjection();
    /** The generations in the order the service moved through them. */
    private final List<String> generations = new CopyOnWriteArrayList<>();
    /** The highest (generation index, version) a reader saw per bucket. */
    private final Map<Bucket, long[]> seen = new ConcurrentHashMap<>();

    private final String g1 = Generation.random("fp").id();
    private final String g2 = Generation.random("fp").id();
    private volatile String current;
    private volatile Consumer<String> onAccept = g -> {};
    private ExecutorService callers;
    private NearCache cache;
    private long markVersion;

    @BeforeEach
    void open() {
        switchTo(g1);
        callers = Executors.newCachedThreadPool();
        cache = new NearCache(projection, this::accepts, clock, CONFIG);
    }

    @AfterEach
    void close() {
        projection.hold = b -> false;
        cache.close();
        callers.shutdownNow();
    }

    /** The service's test: only its current generation is served. */
    private boolean accepts(String generation) {
        boolean ok = generation.equals(current);
        onAccept.accept(generation);
        return ok;
    }

    private void switchTo(String generation) {
        generations.add(generation);
        current = generation;
        projection.generation = new Generation(generation, "fp");
    }

    private static Snapshot snap(Bucket b, String generation, long version) {
        // One card whose id is the version, so a served list shows which snapshot it came from.
        AccountCard c = AccountCard.builder()
                .id(version)
                .name("v" + version)
                .platform(b.platform())
                .type("apikey")
                .status("active")
                .schedulable(true)
                .priority(1)
                .concurrency(3)
                .updatedAt(Instant.EPOCH)
                .build();
        return new Snapshot(b, generation, version, List.of(c));
    }

    private void store(Bucket b, String generation, long version) {
        projection.stored.put(b, snap(b, generation, version));
    }

    /** What the hot path serves: the fresh entry, else a load; checked against what was seen before. */
    private NearCache.Entry read(Bucket b) {
        NearCache.Entry e = cache.get(b);
        if (e == null) {
            e = cache.load(b);
        }
        return see(b, e);
    }

    private NearCache.Entry see(Bucket b, NearCache.Entry e) {
        if (e == null) {
            return null; // no answer from memory: the caller goes to the database, which is not older
        }
        Snapshot s = e.snapshot();
        assertThat(s.bucket()).isEqualTo(b);
        assertThat(s.cards()).extracting(AccountCard::id).containsExactly(s.version());
        long gen = generations.indexOf(s.generation());
        assertThat(gen)
                .as("generation %s is one the service moved through", s.generation())
                .isNotNegative();
        long[] before = seen.get(b);
        if (before != null) {
            assertThat(gen > before[0] || (gen == before[0] && s.version() >= before[1]))
                    .as(
                            "%s served (generation #%d, v%d) after (generation #%d, v%d)",
                            b, gen, s.version(), before[0], before[1])
                    .isTrue();
        }
        seen.put(b, new long[] {gen, s.version()});
        return e;
    }

    private void start() {
        store(MARK, current, ++markVersion);
        cache.start();
        read(MARK);
    }

    /** Waits until the refresh thread has handled every invalidation delivered before this call. */
    private void barrier() {
        store(MARK, current, ++markVersion);
        projection.invalidate(projection.stored.get(MARK));
        long v = markVersion;
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            NearCache.Entry e = cache.get(MARK);
            return e != null && e.snapshot().version() == v;
        });
    }

    private static long version(NearCache.Entry e) {
        return e.snapshot().version();
    }

    @Test
    void anOlderReadCompletingAfterANewerOneIsNeverInstalledOrServed() throws Exception {
        store(A, g1, 1);
        start();
        assertThat(version(read(A))).isEqualTo(1);
        projection.hold = A::equals;

        // 1. A refresh read starts (invalidation of v2) and hangs on a slow connection.
        projection.invalidate(snap(A, g1, 2));
        PendingRead slowRefresh = projection.nextRead();
        // 2. The entry ages past max_stale; the hot path loads and gets v3 first.
        clock.advance(MAX_STALE.plusMillis(1));
        assertThat(cache.get(A)).isNull();
        Future<NearCache.Entry> load = callers.submit(() -> cache.load(A));
        PendingRead loadRead = projection.nextRead();
        loadRead.answer(snap(A, g1, 3));
        assertThat(version(see(A, load.get(10, TimeUnit.SECONDS)))).isEqualTo(3);
        // 3. The older refresh answer arrives last: ignored.
        slowRefresh.answer(snap(A, g1, 2));
        barrier();
        assertThat(version(read(A))).isEqualTo(3);

        // The other way round: a load that read v4 completes after a refresh installed v5.
        clock.advance(MAX_STALE.plusMillis(1));
        Future<NearCache.Entry> slowLoad = callers.submit(() -> cache.load(A));
        PendingRead slowLoadRead = projection.nextRead();
        projection.invalidate(snap(A, g1, 5));
        PendingRead refresh = projection.nextRead();
        refresh.answer(snap(A, g1, 5));
        await().atMost(Duration.ofSeconds(10)).until(() -> cache.get(A) != null && version(cache.get(A)) == 5);
        slowLoadRead.answer(snap(A, g1, 4));
        assertThat(version(see(A, slowLoad.get(10, TimeUnit.SECONDS))))
                .as("the late load returns the newer entry, not its own older read")
                .isEqualTo(5);
        assertThat(version(read(A))).isEqualTo(5);
        assertThat(projection.noPendingRead()).isTrue();
    }

    @Test
    void anInvalidationOlderThanWhatIsHeldChangesNothing() {
        store(A, g1, 5);
        start();
        assertThat(version(read(A))).isEqualTo(5);
        long reads = projection.readsOf(A);

        projection.invalidate(snap(A, g1, 3));
        projection.invalidate(snap(A, g1, 5));
        barrier();
        assertThat(projection.readsOf(A)).as("not even re-read").isEqualTo(reads);
        assertThat(version(read(A))).isEqualTo(5);

        // A newer notice read from a projection that still answers older (a lagging replica).
        store(A, g1, 4);
        projection.invalidate(snap(A, g1, 6));
        barrier();
        assertThat(projection.readsOf(A)).isEqualTo(reads + 1);
        assertThat(version(read(A))).isEqualTo(5);
        // Past max_stale the hot path reloads, reads v4 again, and still serves v5.
        clock.advance(MAX_STALE.plusMillis(1));
        assertThat(version(read(A))).isEqualTo(5);
    }

    @Test
    void aGenerationChangeMovesForwardAndTheOldGenerationNeverComesBack() {
        store(A, g1, 7);
        store(B, g1, 7);
        start();
        read(A);
        read(B);

        // A full rebuild under a new generation: versions start again from 1.
        switchTo(g2);
        store(A, g2, 1);
        projection.invalidate(snap(A, g2, 1));
        barrier();
        NearCache.Entry a = read(A);
        assertThat(a.snapshot().generation()).isEqualTo(g2);
        assertThat(version(a)).isEqualTo(1);

        // A write under the old generation (an instance that has not noticed yet) reaches the projection.
        store(A, g1, 9);
        projection.invalidate(snap(A, g1, 9));
        barrier();
        cache.checkAll();
        assertThat(read(A).snapshot().generation()).isEqualTo(g2);
        // A database fallback that published under the old generation is not installed either.
        NearCache.Entry offered = see(A, cache.offer(snap(A, g1, 10), cache.retireMark(A)));
        assertThat(offered.snapshot().generation()).isEqualTo(g2);
        assertThat(version(offered)).isEqualTo(1);
        assertThat(version(read(A))).isEqualTo(1);

        // B moves when its snapshot of the new generation is read (the version check heals it).
        store(B, g2, 1);
        cache.checkAll();
        assertThat(read(B).snapshot().generation()).isEqualTo(g2);
    }

    @Test
    void aSnapshotAcceptedJustBeforeAGenerationChangeNeverOutranksTheNewGeneration() throws Exception {
        // A cold cache: this instance has not ordered g1 yet.
        store(A, g1, 3);
        CountDownLatch paused = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        AtomicBoolean once = new AtomicBoolean();
        onAccept = g -> {
            // The loader of A is preempted right after its snapshot of g1 was accepted.
            if (g.equals(g1)
                    && Thread.currentThread().getName().equals("loader-a")
                    && once.compareAndSet(false, true)) {
                paused.countDown();
                try {
                    assertThat(resume.await(10, TimeUnit.SECONDS)).isTrue();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while paused", e);
                }
            }
        };
        CompletableFuture<NearCache.Entry> slow = new CompletableFuture<>();
        Thread.ofPlatform().name("loader-a").start(() -> {
            try {
                slow.complete(cache.load(A));
            } catch (Throwable t) {
                slow.completeExceptionally(t);
            }
        });
        assertThat(paused.await(10, TimeUnit.SECONDS)).isTrue();

        // Meanwhile the service moves to g2 and another bucket is loaded under it.
        switchTo(g2);
        store(A, g2, 1);
        store(B, g2, 1);
        assertThat(read(B).snapshot().generation()).isEqualTo(g2);
        resume.countDown();
        see(A, slow.get(10, TimeUnit.SECONDS));

        // Whatever the late loader returned, A must reach g2 on the next read and stay there.
        assertThat(read(A).snapshot().generation()).isEqualTo(g2);
        clock.advance(MAX_STALE.plusMillis(1));
        assertThat(read(A).snapshot().generation()).isEqualTo(g2);
    }

    @Test
    void redisErrorsServeTheHeldSnapshotUpToMaxStaleThenFailAndNeverGoBack() {
        store(A, g1, 3);
        start();
        assertThat(version(read(A))).isEqualTo(3);

        projection.down = true;
        clock.advance(MAX_STALE.minusMillis(1));
        cache.checkAll(); // fails: confirms nothing
        NearCache.Entry within = cache.get(A);
        assertThat(within).as("served from memory within max_stale").isNotNull();
        assertThat(version(see(A, within))).isEqualTo(3);

        clock.advance(Duration.ofMillis(2));
        assertThat(cache.get(A))
                .as("past max_stale nothing is served from memory")
                .isNull();
        assertThatThrownBy(() -> cache.load(A))
                .as("a typed projection error, so the caller goes to the guarded database path")
                .isInstanceOf(ProjectionUnavailableException.class);

        // Redis is back but lost the last write (a replica was promoted): it answers v2.
        projection.down = false;
        store(A, g1, 2);
        cache.checkAll();
        assertThat(version(read(A))).isEqualTo(3);
        // Redis catches up: the check installs and confirms v4.
        store(A, g1, 4);
        cache.checkAll();
        NearCache.Entry after = cache.get(A);
        assertThat(after).isNotNull();
        assertThat(version(see(A, after))).isEqualTo(4);
    }

    @Test
    void aFailedSharedLoadFailsEveryJoinerWithTheTypedError() throws Exception {
        projection.hold = A::equals;
        Future<NearCache.Entry> first = callers.submit(() -> cache.load(A));
        PendingRead r = projection.nextRead();
        CompletableFuture<NearCache.Entry> second = new CompletableFuture<>();
        Thread joiner = Thread.ofPlatform().name("joiner").start(() -> {
            try {
                second.complete(cache.load(A));
            } catch (Throwable t) {
                second.completeExceptionally(t);
            }
        });
        // The second caller is parked on the first one's read instead of starting its own.
        await().atMost(Duration.ofSeconds(10)).until(() -> parkedInLoad(joiner));
        assertThat(projection.readsOf(A)).isEqualTo(1);
        r.fail();
        assertThatThrownBy(() -> first.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(ProjectionUnavailableException.class);
        assertThatThrownBy(() -> second.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(ProjectionUnavailableException.class);
        joiner.join();
        assertThat(projection.readsOf(A)).isEqualTo(1);
        assertThat(cache.stats().loads()).isEqualTo(1);
        assertThat(cache.get(A)).isNull();
    }

    /** Whether {@code t} waits inside {@link NearCache#load} without reading the projection itself. */
    private static boolean parkedInLoad(Thread t) {
        Thread.State st = t.getState();
        if (st != Thread.State.WAITING && st != Thread.State.TIMED_WAITING) {
            return false;
        }
        StackTraceElement[] stack = t.getStackTrace();
        boolean inLoad = Arrays.stream(stack)
                .anyMatch(f -> f.getClassName().equals(NearCache.class.getName())
                        && f.getMethodName().equals("load"));
        boolean reading =
                Arrays.stream(stack).anyMatch(f -> f.getClassName().equals(HandDrivenProjection.class.getName()));
        return inLoad && !reading;
    }
}
