package dev.roster.core.service;

import static dev.roster.core.service.FakeStore.card;
import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.replay.LeaseKeeper;
import dev.roster.core.replay.ReplayStep;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The periodic full rebuild ({@code full_rebuild_interval_seconds}) on the fake clock: the replay loop
 * is polled once per simulated second, as the replay thread does with {@code poll_interval_seconds: 1},
 * and the rebuilder's per-reason run counter tells exactly when an interval rebuild ran. The store is
 * changed silently (no outbox event), so only a full rebuild can bring the change in: that is what the
 * interval rebuild is for, and it shows the run really rebuilt the buckets.
 */
class IntervalRebuildTest {
    private static final int INTERVAL = 300;

    private static long intervalRuns(SnapshotService s) {
        return s.rebuilder().runsByReason().getOrDefault("interval", 0L);
    }

    private static List<Long> openai(SnapshotService s) {
        return s.list(null, "openai", false).accounts().stream()
                .map(AccountCard::id)
                .toList();
    }

    /** Advances one second and polls, {@code seconds} times, asserting the interval count after each. */
    private static void tick(Rig rig, int seconds, long expectedIntervalRuns) {
        for (int i = 0; i < seconds; i++) {
            rig.clock.advance(Duration.ofSeconds(1));
            rig.service.replayer().pollOnce();
            assertThat(intervalRuns(rig.service))
                    .as("interval rebuilds at %s", rig.clock.instant())
                    .isEqualTo(expectedIntervalRuns);
        }
    }

    @Test
    void aFullRebuildRunsAtEachIntervalAndNotBefore() {
        try (Rig rig = Rig.standard()) {
            rig.store.seed(card(1, "openai", 1));
            SnapshotService s = rig.started();
            assertThat(s.rebuilder().runsByReason()).containsOnlyKeys("generation_missing");
            assertThat(openai(s)).containsExactly(1L);

            for (int n = 1; n <= 3; n++) {
                // A change that emits nothing: the outbox cannot bring it, only a full rebuild.
                rig.store.seed(card(1 + n, "openai", 1 + n));
                tick(rig, INTERVAL - 1, n - 1);
                assertThat(openai(s)).as("before interval %d", n).hasSize(n);
                tick(rig, 1, n);
                assertThat(openai(s)).as("after interval %d", n).hasSize(n + 1);
            }
            // Nothing else ran: the interval rebuilds are the only full rebuilds after the start.
            assertThat(s.rebuilder().runsByReason()).containsOnlyKeys("generation_missing", "interval");
            assertThat(s.rebuilder().runs()).isEqualTo(4);
        }
    }

    @Test
    void noIntervalRebuildRunsWhileAnotherInstanceHoldsTheLease() {
        try (Rig rig = Rig.standard()) {
            rig.store.seed(card(1, "openai", 1));
            SnapshotService s = rig.started();
            tick(rig, INTERVAL - 1, 0);
            tick(rig, 1, 1);

            // Let this instance's lease run out unrenewed, then another instance takes it.
            rig.clock.advance(rig.config.projection().leaseTtl().plusSeconds(1));
            LeaseKeeper other = new LeaseKeeper(
                    rig.projection,
                    rig.clock,
                    rig.config.projection().leaseTtl(),
                    rig.config.projection().leaseRenew());
            assertThat(other.current()).isPresent();
            for (int i = 0; i < 3 * INTERVAL; i++) {
                rig.clock.advance(Duration.ofSeconds(1));
                assertThat(other.current())
                        .as("the other instance keeps its lease")
                        .isPresent();
                assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.NOT_HOLDER);
                assertThat(intervalRuns(s)).isEqualTo(1);
            }
            assertThat(s.rebuilder().runs()).isEqualTo(2);

            // The other instance leaves: the first poll that holds the lease again runs one interval
            // rebuild at once (the interval passed while it was away; what the other holder did is not
            // known here), not one per missed interval, and the schedule restarts from that moment.
            other.release();
            rig.store.seed(card(2, "openai", 2));
            tick(rig, 1, 2);
            assertThat(s.isReplayer()).isTrue();
            assertThat(openai(s)).containsExactly(1L, 2L);
            tick(rig, INTERVAL - 1, 2);
            tick(rig, 1, 3);
        }
    }

    @Test
    void intervalZeroDisablesThePeriodicRebuild() {
        Rig.Sched sched = new Rig.Sched();
        sched.fullRebuildInterval = 0;
        try (Rig rig = Rig.standard().scheduling(sched)) {
            rig.store.seed(card(1, "openai", 1));
            rig.started();
            tick(rig, 3 * 300, 0);
            assertThat(rig.service.rebuilder().runs()).isEqualTo(1);
        }
    }
}
