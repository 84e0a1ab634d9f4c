package dev.roster.core.service;

import static dev.roster.core.service.FakeStore.card;
import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.internal.CurrentGeneration;
import dev.roster.core.internal.Engine;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.replay.ReplayStep;
import org.junit.jupiter.api.Test;

/**
 * A store that may have lost writes (another Redis process answers: a promoted replica, a
 * restart from disk) gets a new generation and a full rebuild, so no (generation, version) handed out
 * after the change can equal one handed out before it for other content.
 */
class StoreChangeTest {

    @Test
    void aChangedStoreProcessGetsOneFullRebuildUnderANewGeneration() {
        try (Rig rig = Rig.standard()) {
            rig.store.seed(card(1, "openai", 1));
            SnapshotService s = rig.started();
            String before = s.generation();
            long runs = s.rebuilder().runs();
            s.replayer().pollOnce();
            assertThat(s.rebuilder().runs()).as("the same store needs nothing").isEqualTo(runs);

            rig.projection.replaceServer();
            assertThat(rig.projection.origin().changed()).isTrue();
            s.replayer().pollOnce();

            assertThat(s.rebuilder().runs()).isEqualTo(runs + 1);
            String after = s.generation();
            assertThat(after).isNotEqualTo(before);
            assertThat(rig.projection.generation().value()).map(Generation::id).hasValue(after);
            assertThat(rig.projection.origin().changed())
                    .as("the new generation is stamped")
                    .isFalse();
            assertThat(rig.projection
                            .readSnapshot(Bucket.of(0, "openai", Mode.SINGLE))
                            .value())
                    .map(Snapshot::generation)
                    .hasValue(after);
            s.replayer().pollOnce();
            assertThat(s.rebuilder().runs()).as("once per change").isEqualTo(runs + 1);
            assertThat(s.ready()).isTrue();
            assertThat(s.audit().clean()).isTrue();
        }
    }

    @Test
    void theAbandonedGenerationIsNotAdoptedBackWhileItsReplacementIsBuilt() {
        try (Rig rig = Rig.standard()) {
            Generation old = Generation.random(Engine.fingerprintOf(rig.config));
            rig.projection.putGeneration(old);
            CurrentGeneration generation = new CurrentGeneration(rig.projection, Engine.fingerprintOf(rig.config));
            Generation replacement = Generation.random(Engine.fingerprintOf(rig.config));
            generation.rebuildStarted(replacement.id(), old.id());
            // A reader meeting a snapshot of the old generation during the rebuild must not switch
            // the instance (and the rest of the rebuild) back to it.
            assertThat(generation.adoptIfStored(old.id())).isFalse();
            assertThat(generation.adoptStored()).isFalse();
            assertThat(generation.id()).isEqualTo(replacement.id());
            assertThat(generation.accepts(replacement.id())).isTrue();
        }
    }

    @Test
    void anInstanceThatDoesNotReplaySwitchesToTheGenerationTheHolderBuilt() {
        try (Rig rig = Rig.standard()) {
            rig.store.seed(card(1, "openai", 1));
            SnapshotService holder = rig.started();
            try (SnapshotService poller = follower(rig);
                    SnapshotService reader = follower(rig)) {
                assertThat(poller.replayer().pollOnce()).isEqualTo(ReplayStep.NOT_HOLDER);
                assertThat(reader.replayer().pollOnce()).isEqualTo(ReplayStep.NOT_HOLDER);
                assertThat(poller.ready()).isTrue();
                assertThat(poller.generation()).isEqualTo(holder.generation());

                rig.projection.replaceServer();
                holder.replayer().pollOnce();
                String after = holder.generation();
                assertThat(poller.generation()).isNotEqualTo(after);

                // The replay thread's poll of a non-holder reads the stored generation.
                assertThat(poller.replayer().pollOnce()).isEqualTo(ReplayStep.NOT_HOLDER);
                assertThat(poller.generation()).isEqualTo(after);

                // A read of a snapshot of the new generation adopts it too, before any poll.
                ListResult r = reader.list(0L, "openai", false);
                assertThat(r.source()).isEqualTo(ListResult.Source.PROJECTION);
                assertThat(r.generation()).isEqualTo(after);
                assertThat(reader.generation()).isEqualTo(after);
            }
        }
    }

    private static SnapshotService follower(Rig rig) {
        return SnapshotService.newBuilder()
                .source(rig.store)
                .projection(rig.projection)
                .config(rig.config)
                .clock(rig.clock)
                .inlineRebuilds(true)
                .build();
    }
}
