package dev.roster.core.service;

import static dev.roster.core.service.FakeStore.card;
import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.GroupLink;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Closing the service interrupts the replay thread; a batch it interrupts is not a failed batch: no
 * failure is counted, no back-off is started and no retry is logged (the batch stays unacknowledged
 * for whoever replays next). On the fake store, with a bucket publish held on the bucket pool while
 * the replay thread waits for it.
 */
class ReplayerShutdownTest {

    @Test
    void closingDuringABatchIsNotAFailedBatch() throws Exception {
        Rig.Sched sched = new Rig.Sched();
        sched.pollSeconds = 3600;
        try (Rig rig = Rig.standard().scheduling(sched)) {
            rig.store.seedGroup(7, "openai", "active");
            rig.store.seed(card(1, "openai", 1, new GroupLink(7, 1)));
            ServiceCloseRaceTest.Holding h = new ServiceCloseRaceTest.Holding(rig.projection);
            SnapshotService s = SnapshotService.newBuilder()
                    .source(rig.store)
                    .projection(h.projection)
                    .config(rig.config)
                    .clock(rig.clock)
                    .inlineRebuilds(true)
                    .build();
            rig.service = s;
            s.start();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(s::ready);

            // Group 0 and group 7 are two bucket reads, so the replay thread waits for the bucket pool,
            // where the first publish is held.
            h.arm("publish", "roster-bucket");
            rig.store.upsert(card(2, "openai", 2, new GroupLink(7, 2)));
            s.wake();
            assertThat(h.reached.await(10, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Void> closing = h.closeAsync(s);
            try {
                Awaitility.await("the replay thread leaves the interrupted batch")
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> s.replayer().interruptedBatches() == 1);
            } finally {
                h.gate.complete(null);
            }
            closing.get(30, TimeUnit.SECONDS);
            assertThat(s.replayer().failedBatches()).as("no failed batch").isZero();
            assertThat(s.replayer().retryAt()).as("no retry scheduled").isNull();
            assertThat(s.rebuilder().failures()).isZero();
        }
    }
}
