package dev.roster.core.service;

import static dev.roster.core.service.FakeStore.card;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.GroupLink;
import dev.roster.core.Mode;
import dev.roster.core.config.NearCacheConfig;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ProjectionUnavailableException;
import dev.roster.core.projection.PublishOutcome;
import dev.roster.core.projection.VersionTicket;
import dev.roster.core.source.SourceException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The snapshot service's paths that mutation testing found unchecked: last-used (local view, projection,
 * write-behind queue, its timer and the flush on close), {@code getAccount}'s fallback, the fallback's
 * error and timeout handling, the published fallback's version and its near-cache install, {@code
 * rebuildBucket}, {@code isReplayer}, the replay loop's poll interval and {@code wake}, and close from
 * an interrupted thread. On the fake store, the in-memory projection and the fake clock.
 */
class ServiceMutationTest {
    static final Instant T = Rig.T0;
    static final Bucket G7 = Bucket.of(7, "openai", Mode.SINGLE);

    /**
     * A projection over {@code delegate} whose named methods fail with {@link
     * ProjectionUnavailableException} while listed in {@link #failing}, and whose {@code publish} runs
     * {@link #afterPublish} once after delegating.
     */
    static final class Switchable {
        final Set<String> failing = java.util.concurrent.ConcurrentHashMap.newKeySet();
        final AtomicReference<Runnable> afterPublish = new AtomicReference<>();
        final Projection projection;

        Switchable(Projection delegate) {
            projection = (Projection) Proxy.newProxyInstance(
                    Projection.class.getClassLoader(), new Class<?>[] {Projection.class}, (proxy, m, args) -> {
                        if (failing.contains(m.getName())) {
                            throw new ProjectionUnavailableException("scripted " + m.getName() + " failure", null);
                        }
                        Object r;
                        try {
                            r = m.invoke(delegate, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                        if (m.getName().equals("publish")) {
                            Runnable hook = afterPublish.getAndSet(null);
                            if (hook != null) {
                                hook.run();
                            }
                        }
                        return r;
                    });
        }
    }

    /** A writer that records every batch and fails while {@link #fail} is set. */
    static final class RecordingWriter implements LastUsedWriter {
        final List<Map<Long, Instant>> batches = new CopyOnWriteArrayList<>();
        final AtomicBoolean fail = new AtomicBoolean();

        @Override
        public void write(Map<Long, Instant> lastUsed) {
            if (fail.get()) {
                throw new IllegalStateException("scripted write failure");
            }
            batches.add(Map.copyOf(lastUsed));
        }
    }

    private static SnapshotService.Builder builder(Rig rig, Projection p) {
        return SnapshotService.newBuilder()
                .source(rig.store)
                .projection(p)
                .config(rig.config)
                .clock(rig.clock)
                .inlineRebuilds(true);
    }

    private static List<Long> ids(ListResult r) {
        return r.accounts().stream().map(AccountCard::id).toList();
    }

    // ---- last-used ----------------------------------------------------------------------------

    @Test
    void markUsed_rejectsIdsBelowOne() {
        try (Rig rig = Rig.standard()) {
            SnapshotService s = rig.build();
            assertThatThrownBy(() -> s.markUsed(0, T)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> s.markUsed(-1, T)).isInstanceOf(IllegalArgumentException.class);
            s.markUsed(1, T);
            assertThat(s.lastUsed(List.of(0L, 1L))).isEqualTo(Map.of(1L, T));
        }
    }

    @Test
    void markUsed_movesTheProjectionForwardOnlyAndLastUsedListsOnlyKnownAccounts() {
        try (Rig rig = Rig.standard()) {
            rig.store.seed(card(1, "openai", 1));
            rig.store.seed(card(2, "openai", 1));
            SnapshotService s = rig.started();
            s.markUsed(1, T.plusSeconds(10));
            assertThat(rig.projection.lastUsed(List.of(1L))).isEqualTo(Map.of(1L, T.plusSeconds(10)));
            s.markUsed(1, T.plusSeconds(5));
            assertThat(rig.projection.lastUsed(List.of(1L))).isEqualTo(Map.of(1L, T.plusSeconds(10)));
            assertThat(s.lastUsed(List.of(1L, 2L))).isEqualTo(Map.of(1L, T.plusSeconds(10)));
        }
    }

    @Test
    void lastUsed_isTheLaterOfTheProjectionAndTheLocalViewAndSurvivesProjectionErrors() {
        try (Rig rig = Rig.standard()) {
            rig.store.seed(card(1, "openai", 1));
            Switchable sw = new Switchable(rig.projection);
            SnapshotService s = builder(rig, sw.projection).build();
            rig.service = s;
            s.replayer().drain();

            // The projection refuses the write: not thrown (the request already went out), kept locally.
            sw.failing.add("markUsed");
            s.markUsed(1, T.plusSeconds(10));
            assertThat(rig.projection.lastUsed(List.of(1L))).isEmpty();
            assertThat(s.lastUsed(List.of(1L))).isEqualTo(Map.of(1L, T.plusSeconds(10)));
            // An older local use does not move the local view back.
            s.markUsed(1, T.plusSeconds(3));
            assertThat(s.lastUsed(List.of(1L))).isEqualTo(Map.of(1L, T.plusSeconds(10)));

            // Another instance wrote a later value to the projection: it wins over the local view.
            rig.projection.markUsed(Map.of(1L, T.plusSeconds(20)));
            assertThat(s.lastUsed(List.of(1L))).isEqualTo(Map.of(1L, T.plusSeconds(20)));
            // A later local one wins over the projection's.
            s.markUsed(1, T.plusSeconds(30));
            assertThat(s.lastUsed(List.of(1L))).isEqualTo(Map.of(1L, T.plusSeconds(30)));

            // The projection cannot be read: the local view answers.
            sw.failing.add("lastUsed");
            assertThat(s.lastUsed(List.of(1L))).isEqualTo(Map.of(1L, T.plusSeconds(30)));
        }
    }

    @Test
    void flushLastUsed_writesTheLatestValuesOnceAndKeepsThemWhenTheWriterFails() {
        try (Rig rig = Rig.standard()) {
            RecordingWriter w = new RecordingWriter();
            SnapshotService s = builder(rig, rig.projection).lastUsedWriter(w).build();
            rig.service = s;
            assertThat(s.flushLastUsed()).as("nothing queued").isZero();
            s.markUsed(1, T.plusSeconds(10));
            s.markUsed(2, T.plusSeconds(20));
            s.markUsed(1, T.plusSeconds(5));
            assertThat(s.flushLastUsed()).isEqualTo(2);
            assertThat(w.batches).containsExactly(Map.of(1L, T.plusSeconds(10), 2L, T.plusSeconds(20)));
            assertThat(s.lastUsedFlushes()).isEqualTo(1);
            assertThat(s.flushLastUsed()).as("the queue was emptied").isZero();
            assertThat(w.batches).hasSize(1);

            s.markUsed(1, T.plusSeconds(30));
            w.fail.set(true);
            assertThatThrownBy(s::flushLastUsed).hasMessage("scripted write failure");
            assertThat(s.lastUsedFlushes()).isEqualTo(1);
            // Kept for the next flush, merged with what arrived meanwhile (the later wins).
            s.markUsed(1, T.plusSeconds(25));
            s.markUsed(3, T.plusSeconds(1));
            w.fail.set(false);
            assertThat(s.flushLastUsed()).isEqualTo(2);
            assertThat(w.batches.getLast()).isEqualTo(Map.of(1L, T.plusSeconds(30), 3L, T.plusSeconds(1)));
            assertThat(s.lastUsedFlushes()).isEqualTo(2);
        }
    }

    @Test
    void flushLastUsed_withoutAWriterWritesNothing() {
        try (Rig rig = Rig.standard()) {
            SnapshotService s = rig.build();
            s.markUsed(1, T);
            assertThat(s.flushLastUsed()).isZero();
            assertThat(s.lastUsedFlushes()).isZero();
        }
    }

    @Test
    void close_flushesTheQueuedLastUsedValues() {
        try (Rig rig = Rig.standard()) {
            RecordingWriter w = new RecordingWriter();
            SnapshotService s = builder(rig, rig.projection).lastUsedWriter(w).build();
            s.markUsed(4, T.plusSeconds(4));
            assertThat(w.batches).isEmpty();
            s.close();
            assertThat(w.batches).containsExactly(Map.of(4L, T.plusSeconds(4)));
        }
    }

    @Test
    void start_flushesLastUsedOnTheTimerWithoutAnExplicitFlush() {
        try (Rig rig = Rig.standard()) {
            rig.config =
                    rig.config.withNearCache(NearCacheConfig.DEFAULTS.withLastUsedFlushInterval(Duration.ofMillis(50)));
            RecordingWriter w = new RecordingWriter();
            SnapshotService s =
                    builder(rig, rig.projection).lastUsedWriter(w).build().start();
            rig.service = s;
            s.markUsed(4, T.plusSeconds(4));
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(w.batches).containsExactly(Map.of(4L, T.plusSeconds(4))));
        }
    }

    // ---- getAccount and the fallback ----------------------------------------------------------

    @Test
    void getAccount_readsTheDatabaseOnAMissAndNeverForIdsBelowOne() {
        try (Rig rig = Rig.standard()) {
            SnapshotService s = rig.started();
            // Seeded without an event: the projection has no card for it.
            rig.store.seed(card(5, "openai", 1));
            long before = s.fallbackQueries();
            assertThat(s.getAccount(5)).map(AccountCard::id).hasValue(5L);
            assertThat(s.fallbackQueries() - before).isEqualTo(1);
            assertThat(s.getAccount(0)).isEmpty();
            assertThat(s.getAccount(-3)).isEmpty();
            assertThat(s.fallbackQueries() - before)
                    .as("no query for ids below one")
                    .isEqualTo(1);
        }
    }

    @Test
    void fallback_aSourceErrorIsStoreUnavailableAndIsNotKeptForTheNextRead() {
        try (Rig rig = Rig.standard()) {
            rig.store.seed(card(1, "openai", 1));
            SnapshotService s = rig.build(); // nothing rebuilt: every read falls back
            rig.store.bucketFailure = b -> new SourceException("db down for " + b);
            assertThatThrownBy(() -> s.list(null, "openai", false))
                    .isExactlyInstanceOf(StoreUnavailableException.class)
                    .hasMessage("scheduler db fallback for bucket 0:openai:single failed: db down for 0:openai:single")
                    .hasCauseInstanceOf(SourceException.class);
            rig.store.bucketFailure = b -> null;
            assertThat(ids(s.list(null, "openai", false))).containsExactly(1L);
        }
    }

    @Test
    void fallback_aPublishedAnswerCarriesItsVersionAndIsServedFromTheNearCacheNext() {
        try (Rig rig = Rig.standard()) {
            rig.store.seedGroup(7, "openai", "active");
            SnapshotService s = rig.build().start();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(s::ready);
            // Linked after the start's rebuild and without an event: only the database knows it.
            rig.store.seed(card(1, "openai", 1, new GroupLink(7, 1)));
            rig.projection.retire(G7);
            rig.projection.reopen(G7);
            ListResult first = s.list(7L, "openai", false);
            assertThat(first.source()).isEqualTo(ListResult.Source.DATABASE);
            assertThat(ids(first)).containsExactly(1L);
            assertThat(first.version()).as("activated under its version").isPositive();
            assertThat(first.generation()).isEqualTo(s.generation());
            ListResult second = s.list(7L, "openai", false);
            assertThat(second.source()).isEqualTo(ListResult.Source.NEAR_CACHE);
            assertThat(second.version()).isEqualTo(first.version());
            assertThat(ids(second)).containsExactly(1L);
        }
    }

    @Test
    void fallback_whenTheNearCacheAlreadyHoldsNewerItServesThatAndNotTheOlderRead() {
        try (Rig rig = Rig.standard()) {
            rig.store.seedGroup(7, "openai", "active");
            Switchable sw = new Switchable(rig.projection);
            SnapshotService s = builder(rig, sw.projection).build().start();
            rig.service = s;
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(s::ready);
            rig.store.seed(card(1, "openai", 1, new GroupLink(7, 1)));
            rig.projection.retire(G7);
            rig.projection.reopen(G7);
            AtomicReference<Long> newer = new AtomicReference<>();
            // Right after the fallback's publish activated, a newer snapshot is published and this
            // instance's near cache loads it, before the fallback's answer is offered to it.
            sw.afterPublish.set(() -> {
                VersionTicket t = rig.projection.allocateVersion(G7).orElseThrow();
                assertThat(rig.projection.publish(
                                t, s.generation(), List.of(card(2, "openai", 1, new GroupLink(7, 1)))))
                        .isEqualTo(PublishOutcome.ACTIVATED);
                newer.set(t.version());
                assertThat(s.nearCache().orElseThrow().load(G7)).isNotNull();
            });
            ListResult r = s.list(7L, "openai", false);
            assertThat(newer.get()).as("the hook ran").isNotNull();
            assertThat(r.source()).isEqualTo(ListResult.Source.NEAR_CACHE);
            assertThat(r.version()).isEqualTo(newer.get());
            assertThat(ids(r)).containsExactly(2L);
        }
    }

    @Test
    void fallback_waitsForTheConfiguredTimeoutWhenTheCallersBudgetIsLonger() {
        Rig.Sched sched = new Rig.Sched();
        sched.fallbackTimeoutSeconds = 1;
        try (Rig rig = Rig.standard().scheduling(sched)) {
            SnapshotService s = rig.build();
            CompletableFuture<Void> gate = new CompletableFuture<>();
            rig.store.gate = gate;
            try {
                assertThatThrownBy(() -> s.list(null, "openai", false, Duration.ofSeconds(60)))
                        .isInstanceOfSatisfying(
                                FallbackTimeoutException.class,
                                e -> assertThat(e.waited()).isEqualTo(Duration.ofSeconds(1)));
            } finally {
                rig.store.gate = null;
                gate.complete(null);
            }
        }
    }

    @Test
    void fallback_aCallerInterruptedWhileWaitingGetsATimeoutAndKeepsItsInterrupt() throws Exception {
        try (Rig rig = Rig.standard()) {
            SnapshotService s = rig.build();
            CompletableFuture<Void> gate = new CompletableFuture<>();
            rig.store.gate = gate;
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            AtomicBoolean interruptKept = new AtomicBoolean();
            Thread caller = Thread.ofPlatform().start(() -> {
                try {
                    s.list(null, "openai", false);
                } catch (RuntimeException e) {
                    thrown.set(e);
                    interruptKept.set(Thread.currentThread().isInterrupted());
                }
            });
            try {
                // Parked on the shared query (no budget, no timeout: an untimed wait).
                Awaitility.await()
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> caller.getState() == Thread.State.WAITING && !rig.store.bucketQueries.isEmpty());
                caller.interrupt();
                caller.join(TimeUnit.SECONDS.toMillis(10));
            } finally {
                rig.store.gate = null;
                gate.complete(null);
            }
            assertThat(caller.isAlive()).isFalse();
            assertThat(thrown.get())
                    .isInstanceOfSatisfying(
                            FallbackTimeoutException.class,
                            e -> assertThat(e.waited()).isZero());
            assertThat(interruptKept).isTrue();
        }
    }

    // ---- operator actions ---------------------------------------------------------------------

    @Test
    void rebuildBucket_publishesAnActiveGroupsBucketRetiresAnInactiveOneAndReleasesTheLock() throws Exception {
        try (Rig rig = Rig.standard()) {
            rig.store.seedGroup(7, "openai", "active");
            rig.store.seedGroup(8, "openai", "disabled");
            SnapshotService s = rig.started();
            rig.store.seed(card(1, "openai", 1, new GroupLink(7, 1), new GroupLink(8, 1)));
            assertThat(s.rebuildBucket(G7)).isTrue();
            assertThat(rig.projection.readSnapshot(G7).value().orElseThrow().cards())
                    .extracting(AccountCard::id)
                    .containsExactly(1L);
            Bucket g8 = Bucket.of(8, "openai", Mode.SINGLE);
            assertThat(s.rebuildBucket(g8)).isFalse();
            assertThat(rig.projection.isRetired(g8)).isTrue();
            // The apply lock is free again: another thread's replay step applies an event.
            rig.store.upsert(card(3, "openai", 1));
            CompletableFuture.runAsync(() -> s.replayer().drain()).get(10, TimeUnit.SECONDS);
            assertThat(rig.projection.card(3).value()).isPresent();
        }
    }

    @Test
    void isReplayer_onlyForTheLeaseHolder() {
        try (Rig rig = Rig.standard()) {
            SnapshotService first = rig.started();
            assertThat(first.isReplayer()).isTrue();
            try (SnapshotService second = builder(rig, rig.projection).build()) {
                second.replayer().drain();
                assertThat(second.isReplayer()).isFalse();
            }
        }
    }

    @Test
    void requestFullRebuild_completesAndNowIsTheInjectedClock() {
        try (Rig rig = Rig.standard()) {
            rig.store.seed(card(1, "openai", 1));
            SnapshotService s = rig.started();
            rig.store.seed(card(2, "openai", 0));
            s.requestFullRebuild("test").join();
            assertThat(rig.projection.card(2).value()).isPresent();
            rig.clock.advance(Duration.ofMinutes(3));
            assertThat(s.now()).isEqualTo(T.plus(Duration.ofMinutes(3)));
        }
    }

    // ---- the replay loop ----------------------------------------------------------------------

    @Test
    void replayLoop_waitsThePollIntervalUnlessWokenAndCloseEndsItAtOnce() {
        Rig.Sched sched = new Rig.Sched();
        sched.pollSeconds = 3600;
        Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
        try (Rig rig = Rig.standard().scheduling(sched)) {
            rig.store.seed(card(1, "openai", 1));
            SnapshotService s = rig.build().start();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(s::ready);
            rig.store.upsert(card(2, "openai", 0));
            // Not woken: the loop sleeps its hour, so the change stays unapplied.
            Awaitility.await()
                    .during(Duration.ofSeconds(2))
                    .atMost(Duration.ofSeconds(5))
                    .until(() -> rig.projection.card(2).value().isEmpty());
            s.wake();
            s.wake(); // a second wake-up before the loop ran is harmless
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> rig.projection.card(2).value().isPresent());
            s.close();
            // Interrupted out of its hour-long wait and joined: gone when close returns.
            assertThat(Thread.getAllStackTraces().keySet().stream()
                            .filter(t -> !before.contains(t) && t.isAlive())
                            .map(Thread::getName)
                            .filter(n -> n.startsWith("roster-replay")))
                    .isEmpty();
        }
    }

    @Test
    void close_waitsForARunningFallbackQuery() throws Exception {
        try (Rig rig = Rig.standard()) {
            SnapshotService s = rig.build();
            CompletableFuture<Void> gate = new CompletableFuture<>();
            rig.store.gate = gate;
            CompletableFuture<ListResult> read = CompletableFuture.supplyAsync(() -> s.list(null, "openai", false));
            CompletableFuture<Void> closed;
            try {
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !rig.store.bucketQueries.isEmpty());
                closed = CompletableFuture.runAsync(s::close);
                // The query cannot be interrupted (the gate ignores interrupts): close waits for it.
                Awaitility.await()
                        .during(Duration.ofSeconds(1))
                        .atMost(Duration.ofSeconds(3))
                        .until(() -> !closed.isDone());
            } finally {
                rig.store.gate = null;
                gate.complete(null);
            }
            closed.get(30, TimeUnit.SECONDS);
            assertThat(read.get(10, TimeUnit.SECONDS).accounts()).isEmpty();
        }
    }

    @Test
    void close_fromAnInterruptedThreadKeepsTheInterrupt() {
        try (Rig rig = Rig.standard()) {
            SnapshotService s = rig.build().start();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(s::ready);
            Thread.currentThread().interrupt();
            s.close();
            assertThat(Thread.interrupted()).isTrue();
        }
    }

    @Test
    void servingDigest_withoutANearCacheReportsNoBucket() {
        try (Rig rig = Rig.standard()) {
            rig.store.seed(card(1, "openai", 1));
            // Not started, so no near cache: the instance serves the projection itself and reports
            // no bucket of its own, but still a digest (the audit counts it as reporting).
            SnapshotService s = rig.started();
            var digest = s.servingDigest();
            assertThat(digest).isNotNull();
            assertThat(digest.buckets()).isEmpty();
            assertThat(digest.reportedAt()).isEqualTo(Rig.T0);
        }
    }
}
