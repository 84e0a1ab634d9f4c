package dev.roster.core.nearcache;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/** An application clock the test moves by hand. */
final class StepClock implements InstantSource {
    private volatile Instant now = Instant.parse("2026-03-01T12:00:00Z");

    @Override
    public Instant instant() {
        return now;
    }

    void advance(Duration d) {
        now = now.plus(d);
    }
}
