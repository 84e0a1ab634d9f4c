package dev.roster.core.replay;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The periodic full rebuild ({@code full_rebuild_interval_seconds}, 0 = off), requested by the lease
 * holder: it repairs whatever no event brought in (a change made without capture, say).
 */
final class IntervalRebuild {
    private final FullRebuilder rebuilder;
    private final @Nullable Schedule schedule;

    IntervalRebuild(FullRebuilder rebuilder, int seconds) {
        this.rebuilder = Objects.requireNonNull(rebuilder, "rebuilder");
        this.schedule = seconds > 0 ? new Schedule(Duration.ofSeconds(seconds), false) : null;
    }

    void run(Instant now) {
        if (schedule != null && schedule.due(now)) {
            // Fire and forget: the rebuilder logs and counts a failed run, and the next interval retries.
            var unused = rebuilder.request("interval");
        }
    }
}
