package dev.roster.core.service;

import static dev.roster.core.service.FakeStore.card;
import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.outbox.OutboxEvent;
import dev.roster.core.outbox.OutboxSource;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.Lookup;
import dev.roster.core.replay.LeaseKeeper;
import dev.roster.core.replay.ReplayStep;
import dev.roster.core.source.SchedulingSource;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Replayer paths the other tests leave open (found by mutation testing): a batch that outlives the
 * replayer lease, the generation check's back-off and adoption, the compensation back-off, the apply
 * lock, last-used filtering, and the counters. Step-driven on the fake clock over {@link FakeStore}.
 */
class ReplayerMutationTest {
    private Rig rig;
    private final AtomicBoolean stealOnRead = new AtomicBoolean();
    private final AtomicBoolean failRead = new AtomicBoolean();
    private LeaseKeeper other;

    @AfterEach
    void close() {
        if (rig != null) {
            rig.close();
        }
    }

    private Duration ttl() {
        return rig.config.projection().leaseTtl();
    }

    /**
     * The store, with a hook: when {@link #stealOnRead} is set, the next outbox read first lets this
     * instance's lease run out and another instance take it, so the batch read there outlives the lease.
     */
    private Object hooked() {
        Object[] self = new Object[1];
        self[0] = Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {SchedulingSource.class, OutboxSource.class},
                (p, m, args) -> {
                    if (m.getName().equals("outbox") && m.getParameterCount() == 0) {
                        return self[0];
                    }
                    if (m.isDefault()) {
                        // Through the proxy, so that the reads a default method composes are hooked too.
                        return InvocationHandler.invokeDefault(p, m, args);
                    }
                    if (m.getName().equals("read") && failRead.get()) {
                        throw new IllegalStateException("outbox unreachable");
                    }
                    if (m.getName().equals("read") && stealOnRead.compareAndSet(true, false)) {
                        rig.clock.advance(ttl().plusSeconds(1));
                        other = new LeaseKeeper(
                                rig.projection,
                                rig.clock,
                                ttl(),
                                rig.config.projection().leaseRenew());
                        assertThat(other.current())
                                .as("the other instance takes the lease")
                                .isPresent();
                    }
                    try {
                        return m.invoke(rig.store, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        return self[0];
    }

    private SnapshotService startHooked() {
        rig = Rig.standard();
        rig.store.seedGroup(7, "openai", "active");
        rig.store.seed(card(1, "openai", 1));
        rig.store.seed(card(2, "openai", 2));
        rig.service = SnapshotService.newBuilder()
                .source((SchedulingSource) hooked())
                .projection(rig.projection)
                .config(rig.config)
                .clock(rig.clock)
                .inlineRebuilds(true)
                .build();
        rig.service.replayer().drain();
        return rig.service;
    }

    private int cardPriority(long id) {
        Lookup<AccountCard> l = rig.projection.card(id);
        assertThat(l).isInstanceOf(Lookup.Hit.class);
        return ((Lookup.Hit<AccountCard>) l).found().priority();
    }

    @Test
    void aCardWriteOfABatchThatOutlivedTheLeaseIsDropped() {
        SnapshotService s = startHooked();
        assertThat(cardPriority(1)).isEqualTo(1);
        stealOnRead.set(true);
        rig.store.upsert(card(1, "openai", 9));
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.NOT_HOLDER);
        assertThat(cardPriority(1))
                .as("the new holder replays it; the old one writes nothing")
                .isEqualTo(1);
        assertThat(s.replayer().watermark()).isEqualTo(-1);
    }

    @Test
    void aCardDeleteOfABatchThatOutlivedTheLeaseIsDropped() {
        SnapshotService s = startHooked();
        stealOnRead.set(true);
        rig.store.delete(2);
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.NOT_HOLDER);
        assertThat(rig.projection.card(2)).isInstanceOf(Lookup.Hit.class);
    }

    @Test
    void aLastUsedWriteOfABatchThatOutlivedTheLeaseIsDropped() {
        SnapshotService s = startHooked();
        Instant at = Instant.parse("2026-03-01T11:00:00Z");
        stealOnRead.set(true);
        rig.store.emit(tx -> new OutboxEvent.AccountLastUsed(0, tx, rig.clock.instant(), Map.of(1L, at)));
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.NOT_HOLDER);
        assertThat(rig.projection.lastUsed(List.of(1L))).doesNotContainKey(1L);
    }

    @Test
    void aBatchWithoutCardWritesIsPublishedButItsWatermarkIsFencedAndTheLeaseForgotten() {
        SnapshotService s = startHooked();
        long rebuilds = s.replayer().bucketRebuilds();
        stealOnRead.set(true);
        rig.store.group(7, "openai", "disabled");
        // Snapshots are versioned, so publishing without the lease is harmless; the watermark is not.
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.NOT_HOLDER);
        assertThat(s.replayer().bucketRebuilds()).isGreaterThan(rebuilds);
        // Still within the renewal period: only a forgotten lease makes this poll a non-holder's.
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.NOT_HOLDER);
        assertThat(other.held()).isPresent();
    }

    @Test
    void drainPollsAtMostTheGivenNumberOfTimes() {
        try (Rig r = Rig.standard()) {
            rig = null;
            r.build();
            assertThat(r.service.replayer().drain(0)).isEqualTo(ReplayStep.MORE);
            assertThat(r.service.ready()).as("not even the startup rebuild ran").isFalse();
            assertThat(r.service.rebuilder().runs()).isZero();
        }
    }

    @Test
    void theApplyLockIsReleasedAfterABatch() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        rig.store.upsert(card(1, "openai", 1));
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.CAUGHT_UP);
        assertThat(s.replayer().applied()).isEqualTo(1);
        // A full rebuild on another thread takes the same lock: it must not wait forever.
        CompletableFuture<Void> other = CompletableFuture.runAsync(
                () -> s.requestFullRebuild("other-thread").join());
        assertThat(other).succeedsWithin(Duration.ofSeconds(30));
    }

    @Test
    void aFailingGenerationRebuildLeavesTheServiceNotReadyAndIsRetriedWithBackOff() {
        rig = Rig.standard();
        rig.store.seed(card(1, "openai", 1));
        SnapshotService s = rig.started();
        assertThat(s.ready()).isTrue();
        rig.store.bucketFailure = b -> new IllegalStateException("bucket broken");
        rig.projection.putGeneration(Generation.random("made-for-other-settings"));
        s.replayer().pollOnce();
        assertThat(s.ready())
                .as("the stored generation is not for these settings")
                .isFalse();
        assertThat(runs(s, "generation_changed")).isEqualTo(1);
        step(s, Duration.ofMillis(4_999));
        assertThat(runs(s, "generation_changed")).as("first retry after 5 s").isEqualTo(1);
        step(s, Duration.ofMillis(1));
        assertThat(runs(s, "generation_changed")).isEqualTo(2);
        step(s, Duration.ofMillis(9_999));
        assertThat(runs(s, "generation_changed")).as("second retry after 10 s").isEqualTo(2);
        step(s, Duration.ofMillis(1));
        assertThat(runs(s, "generation_changed")).isEqualTo(3);
        rig.store.bucketFailure = b -> null;
        step(s, Duration.ofSeconds(20));
        assertThat(runs(s, "generation_changed")).isEqualTo(4);
        assertThat(s.ready()).isTrue();
        assertThat(s.rebuilder().failures()).isEqualTo(3);
    }

    @Test
    void aNewGenerationForTheseSettingsWrittenByAnotherInstanceIsAdopted() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        Generation stored = rig.projection.generation().value().orElseThrow();
        assertThat(s.generation()).isEqualTo(stored.id());
        Generation next = Generation.random(stored.fingerprint());
        rig.projection.putGeneration(next);
        s.replayer().pollOnce();
        assertThat(s.generation()).isEqualTo(next.id());
        assertThat(s.rebuilder().runs()).as("adopted, not rebuilt").isEqualTo(1);
    }

    @Test
    void aRequestedNewGenerationReplacesTheStoredOne() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        String before = rig.projection.generation().value().orElseThrow().id();
        s.requestFullRebuild("plain").join();
        assertThat(rig.projection.generation().value().orElseThrow().id())
                .as("an ordinary full rebuild keeps the generation")
                .isEqualTo(before);
        s.rebuilder().requestNewGeneration("test").join();
        String after = rig.projection.generation().value().orElseThrow().id();
        assertThat(after).isNotEqualTo(before);
        assertThat(s.generation()).isEqualTo(after);
    }

    @Test
    void aFailedCompensationIsRetriedAfterFiveThenTenSeconds() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        rig.store.bucketFailure = b -> new IllegalStateException("bucket broken");
        rig.store.emit(tx -> new OutboxEvent.FullRebuild(0, tx, rig.clock.instant(), false));
        s.replayer().pollOnce();
        assertThat(runs(s, "outbox")).isEqualTo(1);
        step(s, Duration.ofMillis(4_999));
        assertThat(runs(s, "dead_letter_retry")).isZero();
        step(s, Duration.ofMillis(1));
        assertThat(runs(s, "dead_letter_retry")).isEqualTo(1);
        step(s, Duration.ofMillis(9_999));
        assertThat(runs(s, "dead_letter_retry")).isEqualTo(1);
        step(s, Duration.ofMillis(1));
        assertThat(runs(s, "dead_letter_retry")).isEqualTo(2);
    }

    @Test
    void lastUsedIgnoresNonPositiveIdsAndTheEpochAndKeepsTheLatestOfABatch() {
        rig = Rig.standard();
        rig.store.seed(card(1, "openai", 1));
        rig.store.seed(card(2, "openai", 2));
        rig.store.seed(card(3, "openai", 3));
        SnapshotService s = rig.started();
        Instant early = Instant.parse("2026-03-01T10:00:00Z");
        Instant late = Instant.parse("2026-03-01T11:00:00Z");
        rig.store.emit(tx -> new OutboxEvent.AccountLastUsed(
                0, tx, rig.clock.instant(), Map.of(0L, late, 3L, Instant.ofEpochSecond(0, 999_000_000))));
        rig.store.emit(tx -> new OutboxEvent.AccountLastUsed(0, tx, rig.clock.instant(), Map.of(1L, late)));
        rig.store.emit(tx -> new OutboxEvent.AccountLastUsed(0, tx, rig.clock.instant(), Map.of(1L, early)));
        rig.store.emit(tx ->
                new OutboxEvent.AccountLastUsed(0, tx, rig.clock.instant(), Map.of(2L, Instant.ofEpochSecond(1))));
        assertThat(s.replayer().drain()).isEqualTo(ReplayStep.CAUGHT_UP);
        Map<Long, Instant> got = rig.projection.lastUsed(List.of(0L, 1L, 2L, 3L));
        assertThat(got).containsEntry(1L, late).containsEntry(2L, Instant.ofEpochSecond(1));
        assertThat(got)
                .as("id 0 and a time within the epoch's first second are ignored")
                .doesNotContainKeys(0L, 3L);
        assertThat(s.replayer().applied()).isEqualTo(4);
    }

    @Test
    void anAccountUpdateRewritesItsCard() {
        rig = Rig.standard();
        rig.store.seed(card(1, "openai", 1));
        SnapshotService s = rig.started();
        rig.store.upsert(card(1, "openai", 7));
        s.replayer().drain();
        assertThat(cardPriority(1)).isEqualTo(7);
    }

    @Test
    void anEventForAccountZeroRebuildsNothing() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        long before = s.replayer().bucketRebuilds();
        rig.store.emit(tx -> new OutboxEvent.AccountChanged(0, tx, rig.clock.instant(), 0, List.of(), List.of()));
        rig.store.emit(tx -> new OutboxEvent.GroupChanged(0, tx, rig.clock.instant(), List.of(0L, -3L)));
        assertThat(s.replayer().drain()).isEqualTo(ReplayStep.CAUGHT_UP);
        assertThat(s.replayer().bucketRebuilds()).isEqualTo(before);
        assertThat(s.replayer().applied()).isEqualTo(2);
    }

    @Test
    void anEmptyPollEndsALagEpisode() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        // A backlog episode whose rebuild succeeded: latched until the outbox is seen caught up.
        s.replayer().lagMonitor().observe(10_000, Duration.ZERO);
        assertThat(s.replayer().lagMonitor().triggered()).isEqualTo(1);
        assertThat(s.replayer().lagMonitor().latched()).isTrue();
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.IDLE);
        assertThat(s.replayer().lagMonitor().latched())
                .as("an empty poll: nothing pending")
                .isFalse();
    }

    @Test
    void aMalformedRowIsDeadLetteredAtOnceCountedAndNamed() {
        rig = Rig.standard();
        SnapshotService s = rig.started();
        long id = rig.store.emit(
                tx -> new OutboxEvent.Malformed(0, tx, rig.clock.instant(), "account_changed", "bad json", "{"));
        assertThat(s.replayer().drain()).isEqualTo(ReplayStep.CAUGHT_UP);
        assertThat(s.replayer().deadLettered()).isEqualTo(1);
        assertThat(rig.deadLetters).singleElement().asString().contains("Malformed #" + id);
    }

    @Test
    void aPlatformChangeTakesTheAccountOutOfItsOldPlatformsBuckets() {
        rig = Rig.standard();
        rig.store.seed(card(1, "openai", 1));
        SnapshotService s = rig.started();
        assertThat(s.list(null, "openai", false).accounts()).hasSize(1);
        rig.store.upsert(card(1, "anthropic", 1));
        assertThat(s.replayer().drain()).isEqualTo(ReplayStep.CAUGHT_UP);
        assertThat(s.list(null, "openai", false).accounts()).isEmpty();
        assertThat(s.list(null, "anthropic", false).accounts()).hasSize(1);
    }

    @Test
    void anUnreadableOutboxFailsThePollAndBacksOff() {
        SnapshotService s = startHooked();
        failRead.set(true);
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.FAILED);
        assertThat(s.replayer().retryAt()).isEqualTo(rig.clock.instant().plusSeconds(1));
        failRead.set(false);
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.BACKING_OFF);
        rig.clock.advance(Duration.ofSeconds(1));
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.IDLE);
    }

    @Test
    void retentionDeletesOldAppliedEventsOncePerIntervalAfterABatch() {
        // Defaults: events applied and older than 10 min go, at most once per 60 s. No interval
        // rebuild: its fast-forward would make these batches empty, and only a batch runs retention.
        Rig.Sched sched = new Rig.Sched();
        sched.fullRebuildInterval = 0;
        rig = Rig.standard().scheduling(sched);
        SnapshotService s = rig.started();
        rig.store.upsert(card(1, "openai", 1)); // e1 at 0 s; the first pass runs now, deletes nothing
        s.replayer().drain();
        rig.clock.advance(Duration.ofSeconds(595));
        rig.store.upsert(card(2, "openai", 2)); // 9 min 55 s: a pass (cut-off -5 s): nothing
        s.replayer().drain();
        assertThat(rig.store.outboxSize()).isEqualTo(2);
        rig.clock.advance(Duration.ofSeconds(35));
        rig.store.upsert(card(3, "openai", 3)); // 10 min 30 s: e1 is old enough, but no pass is due
        s.replayer().drain();
        assertThat(rig.store.outboxSize()).isEqualTo(3);
        rig.clock.advance(Duration.ofSeconds(30));
        rig.store.upsert(card(4, "openai", 4)); // 11 min: a pass, e1 goes
        s.replayer().drain();
        assertThat(rig.store.outboxSize()).isEqualTo(3);
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
