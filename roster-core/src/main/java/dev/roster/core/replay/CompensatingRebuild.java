package dev.roster.core.replay;

import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;

/**
 * The full rebuild that stands in for events whose effect the replay could not apply (dead-lettered,
 * or an outbox {@code full_rebuild}): it is the only thing that brings their changes into the
 * snapshots, so when it fails (the same broken bucket, say) it is requested again after a back-off
 * (5 s doubling to 5 min) until one succeeds, instead of leaving the change out until the next
 * interval rebuild. Requests are coalesced by the rebuilder.
 */
final class CompensatingRebuild {
    private final FullRebuilder rebuilder;
    private final InstantSource clock;
    private final Backoff backoff = new Backoff(LagMonitor::retryDelay);
    private volatile boolean retryPending;

    CompensatingRebuild(FullRebuilder rebuilder, InstantSource clock) {
        this.rebuilder = Objects.requireNonNull(rebuilder, "rebuilder");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Requests the rebuild for {@code reason}. */
    void request(String reason) {
        // The outcome is handled in whenComplete; the stage it returns is not needed.
        var unused = rebuilder.request(reason).whenComplete((v, e) -> {
            if (e == null) {
                backoff.succeeded();
            } else {
                backoff.failed(clock.instant());
                retryPending = true;
            }
        });
    }

    /** Requests the rebuild again when the last one failed and its back-off has ended. */
    void retryIfDue(Instant now) {
        if (retryPending && !backoff.waiting(now)) {
            retryPending = false;
            request("dead_letter_retry");
        }
    }
}
