package dev.roster.core.service;

import static dev.roster.core.service.FakeStore.card;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.config.ProjectionConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.outbox.OutboxEvent;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.replay.LagMonitor;
import dev.roster.core.replay.ReplayStep;
import dev.roster.core.source.SourceException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Regression tests for the seed's weaknesses that Roster fixes (docs/upstream.md, W1–W16). Each test
 * first sets up the seed's failure scenario, then shows Roster's behaviour.
 */
class SeedWeaknessRegressionTest {
    private Rig rig;

    @AfterEach
    void close() {
        if (rig != null) {
            rig.close();
        }
    }

    private static List<Long> ids(List<AccountCard> cards) {
        return cards.stream().map(AccountCard::id).toList();
    }

    @Test
    @DisplayName("W1: a malformed row is dead-lettered at once and every later event is applied")
    void w1_malformedRowDoesNotStallTheStream() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        long poison = rig.store.emit(tx -> new OutboxEvent.Malformed(
                0, tx, rig.clock.instant(), "account_changed", "payload is not an object", "[1,2"));
        rig.store.upsert(card(1, "openai", 1));
        assertThat(s.replayer().drain()).isEqualTo(ReplayStep.CAUGHT_UP);
        assertThat(rig.deadEvents).extracting(OutboxEvent::id).containsExactly(poison);
        assertThat(rig.deadLetters.getFirst()).contains("payload is not an object");
        assertThat(ids(s.list(null, "openai", false).accounts())).containsExactly(1L);
        rig.store.upsert(card(2, "openai", 2));
        s.replayer().drain();
        assertThat(ids(s.list(null, "openai", false).accounts())).containsExactly(1L, 2L);
    }

    @Test
    @DisplayName("W1: an event whose handling keeps failing is retried with back-off, then dead-lettered")
    void w1_persistentHandlerFailureIsRetriedThenDeadLettered() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        long runs = s.rebuilder().runs();
        // A bug-like failure tied to one bucket (not an unreachable store).
        rig.store.bucketFailure =
                b -> b.platform().equals("grok") ? new IllegalStateException("cannot encode account 7") : null;
        long bad = rig.store.upsert(card(7, "grok", 1));
        rig.store.upsert(card(1, "openai", 1));
        // The batch's read is refused as a defect: it is read again one event at a time.
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.MORE);
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.FAILED);
        assertThat(s.replayer().attempts(bad)).isEqualTo(1);
        // Backing off: the next poll does not retry yet.
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.BACKING_OFF);
        rig.clock.advance(Duration.ofSeconds(1));
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.FAILED);
        assertThat(s.replayer().attempts(bad)).isEqualTo(2);
        rig.clock.advance(Duration.ofSeconds(1));
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.BACKING_OFF); // back-off doubled to 2 s
        rig.clock.advance(Duration.ofSeconds(1));
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.MORE); // 3rd attempt: parked
        assertThat(s.replayer().drain()).isEqualTo(ReplayStep.CAUGHT_UP);
        assertThat(rig.deadEvents).extracting(OutboxEvent::id).containsExactly(bad);
        assertThat(rig.deadLetters.getFirst()).contains("cannot encode account 7");
        assertThat(s.rebuilder().runs()).isGreaterThan(runs); // a full rebuild was scheduled
        assertThat(ids(s.list(null, "openai", false).accounts())).containsExactly(1L);
        rig.store.upsert(card(2, "openai", 2));
        s.replayer().drain();
        assertThat(ids(s.list(null, "openai", false).accounts())).containsExactly(1L, 2L);
    }

    @Test
    @DisplayName("W1: the full rebuild that covers a dead letter is retried until it succeeds")
    void w1_failedCompensatingRebuildIsRetried() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        // The bucket keeps failing (a broken value in the projection, say) until the operator repairs it.
        rig.store.bucketFailure =
                b -> b.platform().equals("grok") ? new IllegalStateException("cannot publish grok") : null;
        long bad = rig.store.upsert(card(7, "grok", 1));
        // One poll splits the refused batch, three attempts follow.
        for (int i = 0; i < 4; i++) {
            s.replayer().pollOnce();
            rig.clock.advance(Duration.ofSeconds(4));
        }
        assertThat(rig.deadEvents).extracting(OutboxEvent::id).containsExactly(bad);
        long failures = s.rebuilder().failures();
        assertThat(failures).as("the compensating full rebuild failed too").isPositive();
        Bucket grok = new Bucket(0, "grok", Mode.SINGLE);
        assertThat(rig.projection.readSnapshot(grok).value().map(x -> ids(x.cards())))
                .isNotEqualTo(java.util.Optional.of(List.of(7L)));
        // Repaired: the dead-lettered change must reach the snapshots without any new event.
        rig.store.bucketFailure = b -> null;
        rig.clock.advance(Duration.ofSeconds(30)); // well below the 300 s interval rebuild
        s.replayer().pollOnce();
        assertThat(rig.projection.readSnapshot(grok).value().map(x -> ids(x.cards())))
                .contains(List.of(7L));
        assertThat(s.audit().clean()).isTrue();
    }

    @Test
    @DisplayName("W3: two changes of one bucket in quick succession both land (no lock that skips rebuilds)")
    void w3_rebuildsAreNeverSkippedWithinTheSeedsLockWindow() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        rig.store.upsert(card(1, "openai", 1));
        s.replayer().drain();
        assertThat(ids(s.list(null, "openai", false).accounts())).containsExactly(1L);
        // Same instant: the seed's 30 s bucket lock would make this rebuild a silent no-op.
        rig.store.upsert(card(2, "openai", 0));
        s.replayer().drain();
        assertThat(ids(s.list(null, "openai", false).accounts())).containsExactly(2L, 1L);
        assertThat(s.audit().clean()).isTrue();
    }

    @Test
    @DisplayName("W5: an event committed late with a lower transaction id is still applied")
    void w5_lateCommitBehindTheWatermarkIsNotSkipped() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        long slowTx = rig.store.begin();
        rig.store.emitIn(slowTx, tx -> new OutboxEvent.AccountChanged(0, tx, rig.clock.instant(), 5, List.of()));
        rig.store.upsert(card(6, "openai", 6));
        s.replayer().drain();
        assertThat(ids(s.list(null, "openai", false).accounts())).containsExactly(6L);
        // The slow transaction commits now; the seed's id watermark has already passed its row.
        rig.store.seed(card(5, "openai", 5));
        rig.store.commit(slowTx);
        s.replayer().drain();
        assertThat(ids(s.list(null, "openai", false).accounts())).containsExactly(5L, 6L);
    }

    @Test
    @DisplayName("W7: a writer that read earlier can never replace a newer snapshot")
    void w7_olderFallbackResultLosesToNewerRebuild() throws Exception {
        rig = Rig.standard();
        rig.store.seed(card(1, "openai", 1));
        SnapshotService s = rig.build();
        ExecutorService caller = Executors.newSingleThreadExecutor();
        try {
            CompletableFuture<Void> gate = new CompletableFuture<>();
            rig.store.gate = gate;
            Future<ListResult> slow = caller.submit(() -> s.list(null, "openai", false));
            org.awaitility.Awaitility.await().until(() -> !rig.store.bucketQueries.isEmpty());
            rig.store.gate = null;
            // Meanwhile a change lands and the replayer publishes a newer version.
            rig.store.upsert(card(2, "openai", 0));
            s.replayer().drain();
            Snapshot newer = rig.projection
                    .readSnapshot(Bucket.of(0, "openai", Mode.SINGLE))
                    .value()
                    .orElseThrow();
            assertThat(ids(newer.cards())).containsExactly(2L, 1L);
            gate.complete(null);
            slow.get();
            Snapshot after = rig.projection
                    .readSnapshot(Bucket.of(0, "openai", Mode.SINGLE))
                    .value()
                    .orElseThrow();
            assertThat(after.version()).isEqualTo(newer.version());
            assertThat(ids(after.cards())).containsExactly(2L, 1L);
        } finally {
            caller.shutdownNow();
        }
    }

    @Test
    @DisplayName("W10: an empty bucket is a stored answer, not a miss that goes to the database")
    void w10_emptyBucketIsAHit() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        rig.store.bucketQueries.clear();
        for (int i = 0; i < 50; i++) {
            ListResult r = s.list(null, "gemini", false);
            assertThat(r.accounts()).isEmpty();
            assertThat(r.source()).isEqualTo(ListResult.Source.PROJECTION);
        }
        assertThat(s.fallbackQueries()).isZero();
        assertThat(rig.store.bucketQueries).isEmpty();
    }

    @Test
    @DisplayName("W10: concurrent misses of one bucket share one database query")
    void w10_concurrentMissesAreSingleFlight() throws Exception {
        rig = Rig.standard();
        rig.store.seed(card(1, "openai", 1));
        SnapshotService s = rig.build(); // never started: no snapshot, so every read is a miss
        CompletableFuture<Void> gate = new CompletableFuture<>();
        rig.store.gate = gate;
        int n = 8;
        List<CompletableFuture<ListResult>> results = new ArrayList<>();
        List<Thread> callers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            CompletableFuture<ListResult> r = new CompletableFuture<>();
            results.add(r);
            callers.add(Thread.ofPlatform().name("w10-caller-" + i).start(() -> {
                try {
                    r.complete(s.list(null, "openai", false));
                } catch (Throwable t) {
                    r.completeExceptionally(t);
                }
            }));
        }
        // Only once every caller is parked inside the fallback, waiting for an answer, is the number
        // of queries final; released earlier, late callers would find the published snapshot and the
        // test could not tell one shared query from several.
        await().atMost(Duration.ofSeconds(20))
                .until(() -> callers.stream().allMatch(SeedWeaknessRegressionTest::waitingInFallback)
                        && !rig.store.bucketQueries.isEmpty());
        try {
            assertThat(s.fallbackQueries())
                    .as("database queries started by %d concurrent misses", n)
                    .isEqualTo(1);
        } finally {
            rig.store.gate = null;
            gate.complete(null); // never leave the callers parked, whatever the assertion said
        }
        for (CompletableFuture<ListResult> r : results) {
            ListResult res = r.get(20, TimeUnit.SECONDS);
            assertThat(ids(res.accounts())).containsExactly(1L);
            assertThat(res.source()).isEqualTo(ListResult.Source.DATABASE);
        }
        for (Thread t : callers) {
            t.join();
        }
        assertThat(rig.store.bucketQueries).containsExactly(Bucket.of(0, "openai", Mode.SINGLE));
        assertThat(s.fallbackQueries()).isEqualTo(1);
        assertThat(s.list(null, "openai", false).source()).isEqualTo(ListResult.Source.PROJECTION);
    }

    /** Whether {@code t} is blocked waiting for a fallback answer (parked in the service's fallback). */
    private static boolean waitingInFallback(Thread t) {
        Thread.State st = t.getState();
        if (st != Thread.State.WAITING && st != Thread.State.TIMED_WAITING) {
            return false;
        }
        return Arrays.stream(t.getStackTrace())
                .anyMatch(f -> f.getClassName().equals(DatabaseFallback.class.getName())
                        && f.getMethodName().equals("bucket"));
    }

    @Test
    @DisplayName("W11: lag is measured from pending events, not from the batch just consumed")
    void w11_lagIsMeasuredFromPendingEvents() {
        Rig.Sched sched = new Rig.Sched();
        sched.lagWarn = 1;
        sched.lagRebuild = 1;
        sched.lagFailures = 1;
        rig = Rig.standard().scheduling(sched);
        SnapshotService s = rig.started();
        // The seed measured lag from the event it had just consumed: an hour-old event it applied
        // would trigger a rebuild. Roster looks at what is still pending: nothing.
        rig.store.upsert(card(1, "openai", 1));
        rig.clock.advance(Duration.ofHours(1));
        s.replayer().drain();
        assertThat(s.replayer().lagMonitor().triggered()).isZero();
        assertThat(s.replayer().lagMonitor().warnings()).isZero();
    }

    @Test
    @DisplayName("W11: a degraded episode rebuilds once; a failed rebuild is retried after 5 s doubling")
    void w11_degradedEpisodeDoesNotRebuildOnEveryPoll() {
        Rig.Sched sched = new Rig.Sched();
        sched.lagWarn = 0;
        sched.lagRebuild = 0;
        sched.backlogRows = 2;
        rig = Rig.standard().scheduling(sched);
        SnapshotService s = rig.started();
        LagMonitor lag = s.replayer().lagMonitor();
        // A persistent backlog (the store fails for these buckets) over many polls: one rebuild.
        rig.store.bucketFailure = b -> b.platform().equals("grok") ? new SourceException("db slow") : null;
        for (int i = 0; i < 3; i++) {
            rig.store.upsert(card(10 + i, "grok", 1));
        }
        long runs = s.rebuilder().runs();
        for (int i = 0; i < 10; i++) {
            s.replayer().pollOnce();
        }
        assertThat(lag.triggered()).isEqualTo(1);
        assertThat(s.rebuilder().runs()).isEqualTo(runs + 1);
        // That rebuild failed (same buckets): the retry waits 5 s, then 10 s, not every poll.
        rig.clock.advance(Duration.ofSeconds(5));
        s.replayer().pollOnce();
        s.replayer().pollOnce();
        assertThat(lag.triggered()).isEqualTo(2);
        rig.clock.advance(Duration.ofSeconds(5));
        s.replayer().pollOnce();
        assertThat(lag.triggered()).isEqualTo(2);
        // The store recovers: the replay catches up by itself, which ends the episode.
        rig.store.bucketFailure = b -> null;
        rig.clock.advance(Duration.ofSeconds(60));
        s.replayer().drain();
        assertThat(lag.triggered()).isEqualTo(2);
        assertThat(ids(s.list(null, "grok", false).accounts())).containsExactly(10L, 11L, 12L);
        assertThat(LagMonitor.retryDelay(1)).isEqualTo(Duration.ofSeconds(5));
        assertThat(LagMonitor.retryDelay(2)).isEqualTo(Duration.ofSeconds(10));
        assertThat(LagMonitor.retryDelay(20)).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    @DisplayName("W12: a batch that takes longer than the seed's 10 s poll context still moves the watermark")
    void w12_slowBatchStillCommitsItsWatermark() {
        // In a deployment the renewal timer keeps the lease through a long batch; this step-driven
        // test has no timer, so the lease simply outlives the batch.
        rig = new Rig(ServiceConfig.DEFAULTS.withProjection(
                new ProjectionConfig(Duration.ofMinutes(10), Duration.ofSeconds(3), Duration.ofSeconds(60))));
        SnapshotService s = rig.started();
        long before = s.replayer().watermark();
        rig.store.loadTakes = Duration.ofSeconds(15); // every bucket query "takes" 15 s
        rig.store.upsert(card(1, "openai", 1));
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.CAUGHT_UP);
        assertThat(rig.projection.watermark().value().orElseThrow()).isGreaterThan(before);
        rig.store.loadTakes = Duration.ZERO;
        assertThat(ids(s.list(null, "openai", false).accounts())).containsExactly(1L);
    }
}
