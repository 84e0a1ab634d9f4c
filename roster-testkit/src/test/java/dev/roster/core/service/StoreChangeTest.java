package dev.roster.core.service;

import static dev.roster.core.service.FakeStore.card;
import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.internal.Engine;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.Snapshot;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * Design §5: a store that may have lost writes (another Redis process answers: a promoted replica, a
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
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                Generation old = Generation.random(Engine.fingerprintOf(rig.config));
                rig.projection.putGeneration(old);
                Engine engine = new Engine(rig.store, rig.projection, rig.config, rig.clock, pool);
                Generation replacement = Generation.random(Engine.fingerprintOf(rig.config));
                engine.generationId(replacement.id());
                engine.abandonGeneration(old.id());
                // A reader meeting a snapshot of the old generation during the rebuild must not switch
                // the instance (and the rest of the rebuild) back to it.
                assertThat(engine.accepts(old.id())).isFalse();
                assertThat(engine.generationId()).isEqualTo(replacement.id());
                assertThat(engine.accepts(replacement.id())).isTrue();
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
