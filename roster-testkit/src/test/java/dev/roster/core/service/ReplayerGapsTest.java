package dev.roster.core.service;

import static dev.roster.core.service.FakeStore.card;
import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.outbox.OutboxEvent;
import dev.roster.core.projection.Generation;
import dev.roster.core.replay.ReplayStep;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Replayer and full-rebuild paths that need a second instance, a horizon that moves without an
 * event, a rebuild held in progress, or a dead-letter sink that fails. Step-driven on the fake clock
 * over {@link FakeStore}; a rebuild is held by blocking its bucket loads on a latch.
 */
class ReplayerGapsTest {
    private Rig rig;
    private SnapshotService second;
    private CompletableFuture<Void> background;
    private final CountDownLatch entered = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void close() throws Exception {
        release.countDown();
        if (background != null) {
            background.get(30, TimeUnit.SECONDS);
        }
        if (second != null) {
            second.close();
        }
        if (rig != null) {
            rig.close();
        }
    }

    @Test
    void anInstanceWithoutTheLeaseAdoptsTheStoredGeneration() {
        rig = Rig.standard();
        rig.store.seed(card(1, "openai", 1));
        SnapshotService holder = rig.started();
        String stored = rig.projection.generation().value().orElseThrow().id();
        second = SnapshotService.newBuilder()
                .source(rig.store)
                .projection(rig.projection)
                .config(rig.config)
                .clock(rig.clock)
                .inlineRebuilds(true)
                .build();
        assertThat(second.ready()).as("nothing verified yet").isFalse();
        assertThat(second.replayer().pollOnce()).isEqualTo(ReplayStep.NOT_HOLDER);
        assertThat(second.ready())
                .as("the non-holder takes the generation the holder built")
                .isTrue();
        assertThat(second.generation()).isEqualTo(stored);
        assertThat(second.rebuilder().runs()).as("adopted, not rebuilt").isZero();
        assertThat(holder.rebuilder().runs()).isEqualTo(1);
    }

    @Test
    void anIdlePollMovesTheWatermarkToANewerHorizon() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        long before = rig.projection.watermark().value().orElseThrow();
        // A committed transaction that wrote no outbox row moves the horizon without an event.
        rig.store.commit(rig.store.begin());
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.IDLE);
        assertThat(s.replayer().watermark()).isEqualTo(before + 1);
        assertThat(rig.projection.watermark().value().orElseThrow())
                .as("the empty batch is acknowledged and its watermark stored")
                .isEqualTo(before + 1);
    }

    @Test
    void aFailedStoreChangedRebuildIsRetriedAfterFiveThenTenSeconds() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        rig.store.bucketFailure = b -> new IllegalStateException("bucket broken");
        rig.projection.replaceServer();
        s.replayer().pollOnce();
        assertThat(runs(s, "store_changed")).isEqualTo(1);
        step(s, Duration.ofMillis(4_999));
        assertThat(runs(s, "store_changed")).as("first retry after 5 s").isEqualTo(1);
        step(s, Duration.ofMillis(1));
        assertThat(runs(s, "store_changed")).isEqualTo(2);
        step(s, Duration.ofMillis(9_999));
        assertThat(runs(s, "store_changed")).as("second retry after 10 s").isEqualTo(2);
        step(s, Duration.ofMillis(1));
        assertThat(runs(s, "store_changed")).isEqualTo(3);
    }

    @Test
    void aNotReadyInstanceAlreadyOnTheStoredGenerationBecomesReady() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        String fingerprint = rig.projection.generation().value().orElseThrow().fingerprint();
        rig.store.bucketFailure = b -> new IllegalStateException("bucket broken");
        rig.projection.putGeneration(Generation.random("made-for-other-settings"));
        s.replayer().pollOnce();
        assertThat(s.ready()).isFalse();
        assertThat(s.rebuilder().failures()).isEqualTo(1);
        // The failed run had switched this instance to the generation it was building; another
        // instance then stores that very generation for these settings.
        rig.projection.putGeneration(new Generation(s.generation(), fingerprint));
        step(s, Duration.ofSeconds(5));
        assertThat(s.ready())
                .as("the stored generation is the one this instance is on: it is current")
                .isTrue();
        assertThat(s.rebuilder().failures()).as("no rebuild made it ready").isEqualTo(1);
    }

    @Test
    void aGenerationRebuildInProgressIsBusy() throws Exception {
        rig = Rig.standard();
        rig.store.seed(card(1, "openai", 1));
        SnapshotService s = rig.started();
        rig.projection.putGeneration(Generation.random("made-for-other-settings"));
        hold();
        background = CompletableFuture.runAsync(() -> s.replayer().pollOnce());
        assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(s.rebuilder().busy()).as("a run is in progress").isTrue();
        release.countDown();
        background.get(30, TimeUnit.SECONDS);
        assertThat(s.rebuilder().busy()).isFalse();
        assertThat(runs(s, "generation_changed")).isEqualTo(1);
        assertThat(s.ready()).isTrue();
    }

    @Test
    void aForcedRebuildAbandonsTheOldGenerationForReadersWhileItRuns() throws Exception {
        rig = Rig.standard();
        rig.store.seed(card(1, "openai", 1));
        SnapshotService s = rig.started();
        String old = s.generation();
        assertThat(s.list(null, "openai", false).accounts()).hasSize(1);
        hold();
        background = CompletableFuture.runAsync(
                () -> s.rebuilder().requestNewGeneration("test").join());
        assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
        String building = s.generation();
        assertThat(building).as("the run switched to its new generation").isNotEqualTo(old);
        // The bucket's snapshot is still stamped with the old generation, which is still stored.
        s.list(null, "openai", false);
        assertThat(s.generation())
                .as("a reader of an old snapshot does not switch the instance back")
                .isEqualTo(building);
        release.countDown();
        background.get(30, TimeUnit.SECONDS);
        assertThat(rig.projection.generation().value().orElseThrow().id()).isEqualTo(building);
        assertThat(s.generation()).isEqualTo(building);
    }

    @Test
    void anEventWhoseDeadLetterFailsIsKeptAndParkedWhenTheSinkRecovers() {
        rig = Rig.standard();
        AtomicBoolean sinkDown = new AtomicBoolean(true);
        List<Long> parked = new CopyOnWriteArrayList<>();
        rig.service = SnapshotService.newBuilder()
                .source(rig.store)
                .projection(rig.projection)
                .config(rig.config)
                .clock(rig.clock)
                .inlineRebuilds(true)
                .deadLetters((e, error, attempts) -> {
                    if (sinkDown.get()) {
                        throw new IllegalStateException("dead-letter table unreachable");
                    }
                    parked.add(e.id());
                })
                .build();
        SnapshotService s = rig.service;
        s.replayer().drain();
        long id = rig.store.emit(
                tx -> new OutboxEvent.Malformed(0, tx, rig.clock.instant(), "account_changed", "bad json", "{"));
        s.replayer().pollOnce();
        assertThat(s.replayer().deadLettered()).isZero();
        sinkDown.set(false);
        for (int i = 0; i < 30 && parked.isEmpty(); i++) {
            step(s, Duration.ofSeconds(1));
        }
        assertThat(parked)
                .as("the event is not passed over while it is not parked")
                .containsExactly(id);
        assertThat(s.replayer().deadLettered()).isEqualTo(1);
    }

    /**
     * Blocks every bucket load of the full rebuild (its own thread and the bucket pool, which loads
     * buckets in parallel) until {@link #release} opens, so no bucket of the run is published before
     * the test has looked. A read's database fallback (the test thread or the fallback pool) is not
     * held: a reader refused the old generation falls back to the database.
     */
    private void hold() {
        Thread test = Thread.currentThread();
        rig.store.bucketFailure = b -> {
            Thread t = Thread.currentThread();
            if (t != test && !t.getName().startsWith("roster-fallback")) {
                entered.countDown();
                try {
                    if (!release.await(30, TimeUnit.SECONDS)) {
                        return new IllegalStateException("the test never released the rebuild");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return new IllegalStateException("interrupted while held", e);
                }
            }
            return null;
        };
    }

    private static long runs(SnapshotService s, String reason) {
        return s.rebuilder().runsByReason().getOrDefault(reason, 0L);
    }

    /** Moves the clock by {@code d} and polls once. */
    private void step(SnapshotService s, Duration d) {
        rig.clock.advance(d);
        s.replayer().pollOnce();
    }
}
