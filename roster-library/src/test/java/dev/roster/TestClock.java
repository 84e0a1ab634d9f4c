package dev.roster;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/**
 * The application clock of these tests: follows the system clock (so leases renew and checks confirm
 * as in production) plus an offset the test moves forward, and can be frozen so a limiter window
 * stays put while a test counts what it lets through.
 */
final class TestClock implements InstantSource {
    private volatile Duration offset = Duration.ZERO;
    private volatile Instant frozen;

    @Override
    public Instant instant() {
        Instant f = frozen;
        return f != null ? f : Instant.now().plus(offset);
    }

    /** Moves the clock forward. */
    void advance(Duration d) {
        Instant f = frozen;
        if (f != null) {
            frozen = f.plus(d);
        } else {
            offset = offset.plus(d);
        }
    }

    /** Stops the clock at its current instant. */
    void freeze() {
        frozen = instant();
    }

    /** Lets the clock run again from where it stood. */
    void thaw() {
        Instant f = frozen;
        if (f != null) {
            offset = Duration.between(Instant.now(), f);
            frozen = null;
        }
    }
}
