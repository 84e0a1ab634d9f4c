package dev.roster.core.service;

import static dev.roster.core.service.FakeStore.card;
import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.outbox.CursorState;
import dev.roster.core.outbox.OutboxSource;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ProjectionUnavailableException;
import dev.roster.core.replay.LeaseKeeper;
import dev.roster.core.replay.ReplayStep;
import dev.roster.core.source.SchedulingSource;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The replay cursor the lease holder publishes (for its own HTTP threads through {@code
 * cursorState()}, for other instances through the projection) and drops when it stops replaying, and
 * the full rebuild's card pass (every live account's card written in batches, vanished accounts'
 * cards deleted after a second read). Step-driven on the fake clock over {@link FakeStore} and {@link
 * dev.roster.core.projection.InMemoryProjection}; a projection and a source wrapped to record or fail
 * single calls.
 */
class ReplayerCursorTest {
    private Rig rig;

    /** Sizes of every {@code putCards} call, in order. */
    private final List<Integer> putCardSizes = new CopyOnWriteArrayList<>();

    private final AtomicInteger cursorWrites = new AtomicInteger();
    private final AtomicBoolean failCursorWrite = new AtomicBoolean();

    /** Every {@code loadCards} request of the source (the full rebuild's second read). */
    private final List<Set<Long>> cardReads = new CopyOnWriteArrayList<>();

    /** Runs once after the source streamed every card (as if the replayer wrote meanwhile). */
    private final AtomicReference<Runnable> afterStream = new AtomicReference<>();

    /** When set, the next outbox read first lets this lease run out and another instance take it. */
    private final AtomicBoolean stealOnRead = new AtomicBoolean();

    private LeaseKeeper other;

    @AfterEach
    void close() {
        if (rig != null) {
            rig.close();
        }
    }

    // ---- the replay cursor -----------------------------------------------------------------------

    @Test
    void theHolderPublishesItsCursorAfterABatch() {
        SnapshotService s = start();
        // An open transaction pins the horizon, so the event is applied above the watermark.
        long pin = rig.store.begin();
        long id = rig.store.upsert(card(1, "openai", 2));
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.CAUGHT_UP);
        CursorState expected = new CursorState(pin, Set.of(id));
        assertThat(s.replayer().cursorState())
                .as("this instance's view of its own cursor")
                .contains(expected);
        assertThat(stored()).as("the cursor other instances read").contains(expected);
    }

    @Test
    void anIdlePollThatMovesTheWatermarkPublishesTheNewCursor() {
        SnapshotService s = start();
        long pin = rig.store.begin();
        long id = rig.store.upsert(card(1, "openai", 2));
        s.replayer().pollOnce();
        assertThat(stored()).contains(new CursorState(pin, Set.of(id)));
        long horizon = pin + 2; // the pin and the event's transaction are the last two ids handed out
        rig.store.commit(pin);
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.IDLE);
        CursorState expected = new CursorState(horizon, Set.of());
        assertThat(s.replayer().cursorState()).contains(expected);
        assertThat(stored()).contains(expected);
    }

    @Test
    void anUnchangedCursorIsNotWrittenAgain() {
        SnapshotService s = start();
        rig.store.upsert(card(1, "openai", 2));
        s.replayer().pollOnce();
        int writes = cursorWrites.get();
        assertThat(writes).as("the batch moved the cursor").isPositive();
        for (int i = 0; i < 3; i++) {
            assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.IDLE);
        }
        assertThat(cursorWrites.get())
                .as("idle polls that move nothing write nothing")
                .isEqualTo(writes);
        assertThat(s.replayer().cursorState()).isEqualTo(stored());
    }

    @Test
    void aFailedCursorWriteIsRetriedByTheNextPoll() {
        SnapshotService s = start();
        Optional<CursorState> before = stored();
        long pin = rig.store.begin();
        long id = rig.store.upsert(card(1, "openai", 2));
        failCursorWrite.set(true);
        assertThat(s.replayer().pollOnce())
                .as("a failed cursor write does not fail the batch")
                .isEqualTo(ReplayStep.CAUGHT_UP);
        CursorState expected = new CursorState(pin, Set.of(id));
        assertThat(s.replayer().cursorState()).contains(expected);
        assertThat(stored()).as("not written").isEqualTo(before);
        failCursorWrite.set(false);
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.IDLE);
        assertThat(stored()).as("the same state is written by the next poll").contains(expected);
    }

    @Test
    void anInstanceThatLostTheLeaseDropsItsCursor() {
        SnapshotService s = start();
        rig.store.upsert(card(1, "openai", 2));
        s.replayer().pollOnce();
        assertThat(s.replayer().cursorState()).isPresent();
        takeLease();
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.NOT_HOLDER);
        assertThat(s.replayer().cursorState())
                .as("a non-holder reports the holder's published cursor, not its own old one")
                .isEmpty();
        assertThat(s.replayer().watermark()).isEqualTo(-1);
    }

    @Test
    void aFencedWatermarkWriteAfterABatchDropsTheCursor() {
        SnapshotService s = start();
        rig.store.seedGroup(7, "openai", "active");
        Optional<CursorState> before = stored();
        stealOnRead.set(true);
        // A group change writes no card, so the batch is applied and only its watermark is fenced.
        rig.store.group(7, "openai", "disabled");
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.NOT_HOLDER);
        assertThat(s.replayer().cursorState())
                .as("dropped at once, not only on the next poll")
                .isEmpty();
        assertThat(s.replayer().watermark()).isEqualTo(-1);
        assertThat(stored()).as("the old holder publishes no cursor").isEqualTo(before);
    }

    @Test
    void aFencedWatermarkWriteOfAnIdlePollEndsThePollAsNonHolder() {
        SnapshotService s = start();
        Optional<CursorState> before = stored();
        // A committed transaction without an outbox row moves the horizon: the idle poll has a
        // watermark to write.
        rig.store.commit(rig.store.begin());
        stealOnRead.set(true);
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.NOT_HOLDER);
        assertThat(s.replayer().cursorState()).isEmpty();
        assertThat(s.replayer().watermark()).isEqualTo(-1);
        assertThat(stored()).as("the old holder publishes no cursor").isEqualTo(before);
        assertThat(other.held()).isPresent();
    }

    // ---- the full rebuild's cards ----------------------------------------------------------------

    @Test
    void aFullRebuildDeletesTheCardOfAnAccountThatVanishedWithoutAnEvent() {
        SnapshotService s = start();
        rig.store.seed(card(1, "openai", 1));
        // A card left behind by an account whose delete event was lost.
        rig.projection.putCards(List.of(card(99, "openai", 1)));
        cardReads.clear();
        s.requestFullRebuild("test").join();
        assertThat(rig.projection.card(99)).isEqualTo(Lookup.miss());
        assertThat(rig.projection.card(1)).isEqualTo(Lookup.hit(card(1, "openai", 1)));
        assertThat(cardReads).as("only the stale card is read again").containsExactly(Set.of(99L));
    }

    @Test
    void aFullRebuildRewritesTheCardOfAnAccountInNoBucket() {
        SnapshotService s = start();
        AccountCard off = FakeStore.withStatus(card(3, "openai", 4), "disabled");
        rig.store.seed(off);
        rig.projection.putCards(List.of(card(3, "openai", 1)));
        cardReads.clear();
        s.requestFullRebuild("test").join();
        assertThat(rig.projection.card(3))
                .as("no bucket holds it, yet its card is the database's")
                .isEqualTo(Lookup.hit(off));
        assertThat(cardReads).as("no stale card, no second read").isEmpty();
    }

    @Test
    void aFullRebuildWritesCardsInBatchesOf500() {
        SnapshotService s = start();
        for (long id = 1; id <= 1001; id++) {
            rig.store.seed(FakeStore.withStatus(card(id, "openai", 1), "disabled"));
        }
        putCardSizes.clear();
        s.requestFullRebuild("test").join();
        assertThat(putCardSizes).containsExactly(500, 500, 1);
        assertThat(rig.projection.cardIds()).hasSize(1001);
    }

    @Test
    void aCardWrittenAfterTheStreamIsKeptAndOnlyTheVanishedOneDeleted() {
        SnapshotService s = start();
        rig.store.seed(card(1, "openai", 1));
        rig.projection.putCards(List.of(card(99, "openai", 1)));
        AccountCard late = card(50, "openai", 6);
        afterStream.set(() -> {
            // Created after the stream read the accounts; the replayer wrote its card since, and it
            // changed again (that event not replayed yet): the second read rewrites the newest card.
            rig.projection.putCards(List.of(card(50, "openai", 5)));
            rig.store.seed(late);
        });
        cardReads.clear();
        s.requestFullRebuild("test").join();
        assertThat(cardReads).as("both candidates are read again").containsExactly(Set.of(50L, 99L));
        assertThat(rig.projection.card(50)).isEqualTo(Lookup.hit(late));
        assertThat(rig.projection.card(99)).isEqualTo(Lookup.miss());
        assertThat(rig.projection.cardIds()).containsExactlyInAnyOrder(1L, 50L);
    }

    @Test
    void aNewGenerationRunThatRetiresABucketStoresItsGeneration() {
        rig = Rig.standard();
        rig.store.seedGroup(7, "openai", "active");
        rig.store.seed(card(1, "openai", 1, new dev.roster.core.GroupLink(7, 1)));
        rig = rigWith(rig);
        SnapshotService s = rig.service;
        String old = rig.projection.generation().value().orElseThrow().id();
        // The group goes inactive without an event: the run finds its buckets registered and retires
        // them, so they have no snapshot when the run checks its own snapshots before storing.
        rig.store.seedGroup(7, "openai", "disabled");
        s.rebuilder().requestNewGeneration("test").join();
        String stored = rig.projection.generation().value().orElseThrow().id();
        assertThat(stored).as("a retired bucket is not a lost snapshot").isNotEqualTo(old);
        assertThat(s.generation()).isEqualTo(stored);
        assertThat(s.rebuilder().failures()).isZero();
        assertThat(s.list(7L, "openai", false).accounts()).isEmpty();
    }

    // ---- harness ---------------------------------------------------------------------------------

    private Optional<CursorState> stored() {
        return rig.projection.replayCursor() instanceof Lookup.Hit<CursorState> h
                ? Optional.of(h.found())
                : Optional.empty();
    }

    /** Lets this instance's lease run out and another instance take it. */
    private void takeLease() {
        var p = rig.config.projection();
        rig.clock.advance(p.leaseTtl().plusSeconds(1));
        other = new LeaseKeeper(rig.projection, rig.clock, p.leaseTtl(), p.leaseRenew());
        assertThat(other.current()).as("the other instance takes the lease").isPresent();
    }

    /** A service over the recording projection and source, after its startup rebuild. */
    private SnapshotService start() {
        return rigWith(Rig.standard()).service;
    }

    private Rig rigWith(Rig r) {
        rig = r;
        rig.service = SnapshotService.newBuilder()
                .source((SchedulingSource) source())
                .projection(projection())
                .config(rig.config)
                .clock(rig.clock)
                .inlineRebuilds(true)
                .build();
        rig.service.replayer().drain();
        return rig;
    }

    private Projection projection() {
        return (Projection) Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {Projection.class}, (p, m, args) -> {
                    switch (m.getName()) {
                        case "putCards" -> putCardSizes.add(((Collection<?>) args[0]).size());
                        case "putReplayCursor" -> {
                            if (failCursorWrite.get()) {
                                throw new ProjectionUnavailableException("scripted cursor write failure", null);
                            }
                            cursorWrites.incrementAndGet();
                        }
                        default -> {}
                    }
                    return forward(m, rig.projection, args);
                });
    }

    private Object source() {
        Object[] self = new Object[1];
        self[0] = Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {SchedulingSource.class, OutboxSource.class},
                (p, m, args) -> {
                    if (m.isDefault()) {
                        // Through the proxy, so that the reads a default method composes are hooked too.
                        return InvocationHandler.invokeDefault(p, m, args);
                    }
                    switch (m.getName()) {
                        case "outbox" -> {
                            if (m.getParameterCount() == 0) {
                                return self[0];
                            }
                        }
                        case "read" -> {
                            if (stealOnRead.compareAndSet(true, false)) {
                                takeLease();
                            }
                        }
                        case "loadCards" -> {
                            @SuppressWarnings("unchecked")
                            Collection<Long> ids = (Collection<Long>) args[0];
                            cardReads.add(new TreeSet<>(ids));
                        }
                        case "loadAllCards" -> {
                            Object r = forward(m, rig.store, args);
                            Runnable hook = afterStream.getAndSet(null);
                            if (hook != null) {
                                hook.run();
                            }
                            return r;
                        }
                        default -> {}
                    }
                    return forward(m, rig.store, args);
                });
        return self[0];
    }

    private static Object forward(java.lang.reflect.Method m, Object target, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
