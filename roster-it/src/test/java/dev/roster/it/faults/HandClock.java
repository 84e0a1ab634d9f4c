package dev.roster.it.faults;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;

/**
 * An application clock that follows the system clock until {@linkplain #freeze() frozen}, then moves
 * only when the test {@linkplain #advance advances} it, and after {@link #resume()} follows the system
 * clock again from where it stood (it never goes back). A scenario freezes it to make time-bounded
 * promises (staleness, a per-second limiter) exact, and resumes it so that leases and back-offs work
 * again for the convergence check.
 */
final class HandClock implements InstantSource {
    private Instant frozen;
    private Duration offset = Duration.ZERO;

    @Override
    public synchronized Instant instant() {
        return frozen != null ? frozen : Instant.now().plus(offset);
    }

    /** Stops the clock at the current millisecond and returns that instant. */
    synchronized Instant freeze() {
        if (frozen == null) {
            frozen = instant().truncatedTo(ChronoUnit.MILLIS);
        }
        return frozen;
    }

    /** Moves a frozen clock forward by {@code d}. */
    synchronized Instant advance(Duration d) {
        if (frozen == null) {
            throw new IllegalStateException("advance a frozen clock only");
        }
        frozen = frozen.plus(d);
        return frozen;
    }

    /** Follows the system clock again, starting from the frozen instant. */
    synchronized void resume() {
        if (frozen != null) {
            offset = Duration.between(Instant.now(), frozen);
            frozen = null;
        }
    }
}
