package dev.roster.core.selection;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/** A clock tests move by hand. */
final class FakeClock implements InstantSource {
    static final Instant T0 = Instant.parse("2026-03-01T12:00:00Z");
    private volatile Instant now = T0;

    @Override
    public Instant instant() {
        return now;
    }

    void advance(Duration d) {
        now = now.plus(d);
    }
}
