package dev.roster.core.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.config.SchedulingConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The lag monitor's thresholds and episode state, driven directly: every threshold at its exact
 * value and one below, the rebuild futures completed by hand, and the retry back-off on a hand-moved
 * clock. The expected delays are written out (5 s doubling to 5 min), not computed.
 */
class LagMonitorTest {
    private static final Instant T0 = Instant.parse("2026-03-01T12:00:00Z");

    private final AtomicReference<Instant> now = new AtomicReference<>(T0);
    private final List<String> requested = new ArrayList<>();
    private final List<CompletableFuture<Void>> futures = new ArrayList<>();

    /** warn 5 s, rebuild at 10 s after 3 lagging polls, backlog 100 rows. */
    private LagMonitor monitor(int warn, int lagRebuild, int lagFailures, int backlogRows) {
        SchedulingConfig cfg = SchedulingConfig.DEFAULTS.toBuilder()
                .outboxLagWarnSeconds(warn)
                .outboxLagRebuildSeconds(lagRebuild)
                .outboxLagRebuildFailures(lagFailures)
                .outboxBacklogRebuildRows(backlogRows)
                .build();
        return new LagMonitor(cfg, now::get, why -> {
            requested.add(why);
            CompletableFuture<Void> f = new CompletableFuture<>();
            futures.add(f);
            return f;
        });
    }

    private LagMonitor standard() {
        return monitor(5, 10, 3, 100);
    }

    private static Duration s(long seconds) {
        return Duration.ofSeconds(seconds);
    }

    private void advance(Duration d) {
        now.set(now.get().plus(d));
    }

    @Test
    void retryDelayDoublesFromFiveSecondsAndIsCappedAtFiveMinutes() {
        assertThat(LagMonitor.retryDelay(1)).isEqualTo(s(5));
        assertThat(LagMonitor.retryDelay(2)).isEqualTo(s(10));
        assertThat(LagMonitor.retryDelay(3)).isEqualTo(s(20));
        assertThat(LagMonitor.retryDelay(6)).isEqualTo(s(160));
        assertThat(LagMonitor.retryDelay(7)).isEqualTo(s(300));
        assertThat(LagMonitor.retryDelay(40)).isEqualTo(s(300));
    }

    @Test
    void theWarningIsCountedOnTheTransitionAtTheThresholdOnly() {
        LagMonitor m = standard();
        m.observe(1, s(4));
        assertThat(m.warnings()).isZero();
        m.observe(1, s(5));
        assertThat(m.warnings()).isEqualTo(1);
        m.observe(1, s(6));
        assertThat(m.warnings()).as("still warned: no new transition").isEqualTo(1);
        m.caughtUp();
        m.observe(1, s(5));
        assertThat(m.warnings()).isEqualTo(2);
        LagMonitor off = monitor(0, 10, 3, 100);
        off.observe(1, s(1000));
        assertThat(off.warnings()).as("warn 0 disables the warning").isZero();
    }

    @Test
    void lagTriggersAfterTheConfiguredNumberOfConsecutivePollsAtTheThreshold() {
        LagMonitor m = standard();
        m.observe(1, s(10));
        m.observe(1, s(10));
        m.observe(1, s(9)); // below: the count starts again
        m.observe(1, s(10));
        m.observe(1, s(10));
        assertThat(requested).isEmpty();
        m.observe(1, s(10));
        assertThat(requested).containsExactly(LagMonitor.LAG);
        assertThat(m.triggered()).isEqualTo(1);

        LagMonitor off = monitor(5, 0, 1, 0);
        off.observe(1, s(100_000));
        assertThat(off.triggered()).as("lag rebuild 0 disables it").isZero();
    }

    @Test
    void backlogTriggersAtTheRowThresholdAndZeroDisablesIt() {
        LagMonitor m = standard();
        m.observe(99, s(0));
        assertThat(requested).isEmpty();
        m.observe(100, s(0));
        assertThat(requested).containsExactly(LagMonitor.BACKLOG);

        LagMonitor off = monitor(5, 10, 3, 0);
        off.observe(Long.MAX_VALUE, s(0));
        assertThat(off.triggered()).isZero();
    }

    @Test
    void aSuccessfulRebuildLatchesTheEpisodeUntilRecovery() {
        LagMonitor m = standard();
        m.observe(100, s(0));
        m.observe(100, s(0));
        assertThat(requested).as("no second request while one runs").hasSize(1);
        futures.getFirst().complete(null);
        assertThat(m.latched()).isTrue();
        m.observe(500, s(0));
        assertThat(requested).as("latched: still degraded, no new rebuild").hasSize(1);
        m.observe(99, s(0));
        assertThat(m.latched()).isFalse();
        m.observe(100, s(0));
        assertThat(requested).as("a new episode triggers again").hasSize(2);
    }

    @Test
    void aFailedRebuildIsRetriedAfterTheBackOffAndNotBefore() {
        LagMonitor m = standard();
        m.observe(100, s(0));
        futures.getFirst().completeExceptionally(new IllegalStateException("boom"));
        assertThat(m.latched()).isFalse();
        advance(Duration.ofMillis(4_999));
        m.observe(100, s(0));
        assertThat(requested).hasSize(1);
        advance(Duration.ofMillis(1));
        m.observe(100, s(0));
        assertThat(requested).hasSize(2);
        futures.get(1).completeExceptionally(new IllegalStateException("boom"));
        advance(s(9));
        m.observe(100, s(0));
        assertThat(requested).as("second failure: 10 s").hasSize(2);
        advance(s(1));
        m.observe(100, s(0));
        assertThat(requested).hasSize(3);
        futures.get(2).complete(null);
        assertThat(m.latched()).isTrue();
    }

    @Test
    void retryStateBelongsToItsReason() {
        LagMonitor m = standard();
        m.observe(100, s(0));
        futures.getFirst().completeExceptionally(new IllegalStateException("backlog run failed"));
        // Backlog is backing off for 5 s; lag reaching its trigger is another reason and goes at once.
        m.observe(100, s(10));
        m.observe(100, s(10));
        assertThat(requested).containsExactly(LagMonitor.BACKLOG);
        m.observe(100, s(10));
        assertThat(requested).containsExactly(LagMonitor.BACKLOG, LagMonitor.LAG);
        futures.get(1).completeExceptionally(new IllegalStateException("lag run failed"));
        // The lag reason's own first failure: 5 s, not the 10 s a shared counter would give.
        advance(s(5));
        m.observe(100, s(10));
        assertThat(requested).containsExactly(LagMonitor.BACKLOG, LagMonitor.LAG, LagMonitor.LAG);
    }

    @Test
    void theEndOfARunStartedForAnotherReasonDoesNotLatchTheCurrentOne() {
        LagMonitor m = standard();
        m.observe(100, s(0));
        // Recovery, then a lag episode while the backlog run is still going.
        m.observe(0, s(0));
        m.observe(0, s(10));
        m.observe(0, s(10));
        m.observe(0, s(10));
        assertThat(requested).as("a run is still going").containsExactly(LagMonitor.BACKLOG);
        futures.getFirst().complete(null);
        assertThat(m.latched())
                .as("the backlog run says nothing of the lag episode")
                .isFalse();
        m.observe(0, s(10));
        assertThat(requested).containsExactly(LagMonitor.BACKLOG, LagMonitor.LAG);
    }

    @Test
    void caughtUpEndsTheEpisode() {
        LagMonitor m = standard();
        m.observe(100, s(0));
        futures.getFirst().complete(null);
        assertThat(m.latched()).isTrue();
        m.caughtUp();
        assertThat(m.latched()).isFalse();
    }
}
