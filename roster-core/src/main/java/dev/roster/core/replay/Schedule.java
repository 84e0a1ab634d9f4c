package dev.roster.core.replay;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * When a periodic job of the replay loop is due: every {@code period} of the application clock,
 * counted from the first poll that asks (or run at that poll, for jobs that start at once). Polls are
 * what move time forward here, so a job missed while the instance did not replay runs once when it
 * replays again, not once per missed period. Used from the replay thread only.
 */
final class Schedule {
    private final Duration period;
    private final boolean firstAtOnce;
    private @Nullable Instant next;

    /**
     * @param period how often the job runs
     * @param firstAtOnce whether the first poll runs it (otherwise the first poll only starts the clock)
     */
    Schedule(Duration period, boolean firstAtOnce) {
        this.period = Objects.requireNonNull(period, "period");
        this.firstAtOnce = firstAtOnce;
    }

    /** Whether the job is due at {@code now}; when it is, the next run is one period later. */
    boolean due(Instant now) {
        if (next == null) {
            next = now.plus(period);
            return firstAtOnce;
        }
        if (now.isBefore(next)) {
            return false;
        }
        next = now.plus(period);
        return true;
    }
}
