package dev.roster.it.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.Roster;
import dev.roster.testkit.RedisHarness;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The replayer in a process of its own ({@link RosterChild}), stopped at an exact point of a batch by
 * its {@link GatedProjection} and then killed with SIGKILL (no shutdown hook: the lease is never
 * released and must expire), while an in-process standby instance serves readers and takes over. Also
 * the graceful hand-over (SIGTERM: lease released at once) and Redis restarted empty while the replayer
 * is inside a batch. After each, nothing is lost and the audit is clean.
 */
class ReplayerProcessFaultTest extends FaultTestBase {

    @Test
    void replayerKilledBeforePublishing() {
        killAt("publish:1", "replayer SIGKILLed before its batch's first publish");
    }

    @Test
    void replayerKilledMidBatch() {
        killAt("publish:3", "replayer SIGKILLed after 2 of its batch's publishes");
    }

    @Test
    void replayerKilledAfterPublishingBeforeWatermark() {
        killAt("watermark:1", "replayer SIGKILLed after publishing, before the watermark write");
    }

    @Test
    void leaseHandOverOnGracefulStop() {
        try (ChildProcess child = ChildProcess.launch(env, "none")) {
            Roster standby = standbyWithLoad(child);
            env.faultStarts();
            child.terminate();
            // Released lease: the standby takes over at its next check, without waiting for the TTL.
            await().atMost(Duration.ofSeconds(30)).until(() -> standby.admin().isReplayer());
            Load.hold(hold());
            env.faultEnds();
            env.converge("replayer process stopped with SIGTERM (lease released)", 0);
        }
    }

    @Test
    void redisRestartedEmptyWhileReplayerMidBatch() {
        try (ChildProcess child = ChildProcess.launch(env, "publish:2")) {
            standbyWithLoad(child);
            env.faultStarts();
            child.arm();
            child.awaitGate(Duration.ofSeconds(60));
            RedisHarness.shared().restart();
            child.release();
            Load.hold(hold());
            env.faultEnds();
            env.converge("Redis restarted empty while the replayer (child process) was inside a batch", 0);
        }
    }

    private void killAt(String gate, String what) {
        try (ChildProcess child = ChildProcess.launch(env, gate)) {
            Roster standby = standbyWithLoad(child);
            var rebuilds = env.rebuildMark();
            env.faultStarts();
            child.arm();
            child.awaitGate(Duration.ofSeconds(60));
            child.kill();
            await().atMost(Duration.ofSeconds(30)).until(() -> standby.admin().isReplayer());
            Load.hold(hold());
            env.faultEnds();
            env.converge(what + "; standby took over after the lease TTL", 0);
            // The standby resumed from the stored watermark and re-applied the dead holder's batch by
            // replay: a full rebuild would have repaired a lost batch and hidden it.
            env.assertNoFullRebuildSince(rebuilds);
        }
    }

    /** Seeds, waits for the child to replay, starts the in-process standby and the load. */
    private Roster standbyWithLoad(ChildProcess child) {
        Load load = env.load(false);
        child.awaitReady(env.size.converge());
        Roster standby = env.roster();
        env.awaitReady();
        assertThat(standby.admin().isReplayer()).as("the child holds the lease").isFalse();
        load.start();
        Load.hold(env.size.warmup());
        return standby;
    }
}
