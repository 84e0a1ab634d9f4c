package dev.roster.core.service;

import static dev.roster.core.service.FakeStore.card;
import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.outbox.OutboxEvent;
import dev.roster.core.replay.ReplayStep;
import dev.roster.core.source.SourceDefectException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A statement the source refuses as a defect ({@link SourceDefectException}: retrying cannot help) is
 * not an outage: it is charged to the event whose rows it reads, which is dead-lettered after {@code
 * replay.max_attempts} (3 in the rig), and the rest of the batch is applied. A batch-wide read that is
 * refused is read again one event at a time, so only the guilty event is dead-lettered.
 */
class ReplayerDefectTest {

    private static List<Long> openai(SnapshotService s) {
        return s.list(null, "openai", false).accounts().stream()
                .map(AccountCard::id)
                .toList();
    }

    /** Polls until caught up, moving the fake clock past every back-off. */
    private static ReplayStep drainThroughBackoffs(Rig rig) {
        ReplayStep step = ReplayStep.FAILED;
        for (int i = 0; i < 50 && step != ReplayStep.CAUGHT_UP && step != ReplayStep.IDLE; i++) {
            step = rig.service.replayer().pollOnce();
            if (step == ReplayStep.FAILED || step == ReplayStep.BACKING_OFF) {
                rig.clock.advance(Duration.ofSeconds(10));
            }
        }
        return step;
    }

    @Test
    void aRefusedBatchReadDeadLettersOnlyTheEventWhoseRowsCannotBeRead() {
        try (Rig rig = Rig.standard()) {
            rig.store.seed(card(1, "openai", 1));
            SnapshotService s = rig.started();
            long e2 = rig.store.upsert(card(2, "openai", 2));
            rig.store.upsert(card(3, "openai", 3));
            rig.store.upsert(card(4, "openai", 4));
            rig.store.cardsFailure =
                    ids -> ids.contains(3L) ? new SourceDefectException("column \"x\" does not exist") : null;

            assertThat(drainThroughBackoffs(rig)).isIn(ReplayStep.CAUGHT_UP, ReplayStep.IDLE);

            List<OutboxEvent> dead = rig.deadEvents;
            assertThat(dead).hasSize(1);
            assertThat(dead.getFirst().id()).isEqualTo(e2 + 1);
            assertThat(rig.deadLetters.getFirst())
                    .as("dead-lettered after max_attempts, naming the refusal")
                    .startsWith((e2 + 1) + ":3:")
                    .contains("does not exist");
            // The compensating full rebuild (requested for the dead letter) reads the card too and
            // fails the same way; what matters here is that replay went on without the guilty event.
            rig.store.cardsFailure = ids -> null;
            assertThat(s.list(null, "openai", false).accounts())
                    .extracting(AccountCard::id)
                    .contains(1L, 2L, 4L);
            assertThat(s.replayer().deadLettered()).isEqualTo(1);
        }
    }

    @Test
    void aRefusedOutboxStatementBlamesNoEventAndBacksOff() {
        try (Rig rig = Rig.standard()) {
            rig.store.seed(card(1, "openai", 1));
            SnapshotService s = rig.started();
            rig.store.upsert(card(2, "openai", 2));
            rig.store.upsert(card(3, "openai", 3));
            rig.store.readFailure = new SourceDefectException("syntax error at or near \"FORM\"");

            // First the batch is split to one event, then the event-only read is refused too.
            assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.MORE);
            assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.FAILED);
            assertThat(s.replayer().retryAt()).isEqualTo(rig.clock.instant().plusSeconds(1));
            for (int i = 0; i < 5; i++) {
                rig.clock.advance(Duration.ofSeconds(10));
                assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.FAILED);
            }
            assertThat(rig.deadEvents).as("no event is to blame").isEmpty();

            rig.store.readFailure = null;
            assertThat(drainThroughBackoffs(rig)).isIn(ReplayStep.CAUGHT_UP, ReplayStep.IDLE);
            assertThat(openai(s)).containsExactly(1L, 2L, 3L);
            assertThat(rig.deadEvents).isEmpty();
        }
    }
}
