package dev.roster.testkit;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import org.jspecify.annotations.Nullable;

/**
 * The one fake application clock of the tests. Either it stands still at an instant and moves only when
 * the test {@linkplain #advance advances} it ({@link #at}), or it follows the system clock plus an offset
 * the test moves forward ({@link #following}), so leases renew and checks confirm as in production, and
 * can be {@linkplain #freeze() frozen} for a while (a limiter window stays put while a test counts what
 * it lets through; a confirmation happens at one known millisecond) and {@linkplain #thaw() thawed}
 * again. It never goes back. Safe to read from any thread; advance, freeze and thaw from one test thread.
 */
public final class TestClock implements InstantSource {
    /** The instant the hand-moved clocks of the unit tests start at. */
    public static final Instant T0 = Instant.parse("2026-03-01T12:00:00Z");

    private volatile Duration offset = Duration.ZERO;
    private volatile @Nullable Instant frozen;

    private TestClock(@Nullable Instant frozen) {
        this.frozen = frozen;
    }

    /** A clock standing at {@code start}; it moves only by {@link #advance}. */
    public static TestClock at(Instant start) {
        return new TestClock(start);
    }

    /** A clock that follows the system clock until it is frozen. */
    public static TestClock following() {
        return new TestClock(null);
    }

    @Override
    public Instant instant() {
        Instant f = frozen;
        return f != null ? f : Instant.now().plus(offset);
    }

    /** Moves the clock forward by {@code d}, whether it stands still or follows the system clock. */
    public void advance(Duration d) {
        Instant f = frozen;
        if (f != null) {
            frozen = f.plus(d);
        } else {
            offset = offset.plus(d);
        }
    }

    /**
     * Stops the clock at its current instant, moved up to the next whole millisecond (the stores keep
     * milliseconds, so a time read back from them equals the frozen instant), and returns that instant.
     * A clock that stands still already stays where it is.
     */
    public Instant freeze() {
        Instant now = instant();
        Instant whole = now.truncatedTo(ChronoUnit.MILLIS);
        Instant f = whole.equals(now) ? now : whole.plusMillis(1);
        frozen = f;
        return f;
    }

    /** Lets the clock follow the system clock again, from where it stood. */
    public void thaw() {
        Instant f = frozen;
        if (f != null) {
            offset = Duration.between(Instant.now(), f);
            frozen = null;
        }
    }
}
