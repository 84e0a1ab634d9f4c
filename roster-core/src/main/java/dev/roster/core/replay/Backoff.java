package dev.roster.core.replay;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.function.IntFunction;
import org.jspecify.annotations.Nullable;

/**
 * The retry timing of one job after consecutive failures: each failure pushes the next attempt out by
 * the delay for that many failures, a success clears it. Thread-safe, because the outcome of a job
 * that runs on the rebuild thread is reported from there while the replay thread asks whether it is
 * due.
 */
final class Backoff {
    private final IntFunction<Duration> delays;
    private int failures;
    private @Nullable Instant retryAt;

    /** @param delays the delay before the next attempt after {@code n} consecutive failures (n &ge; 1) */
    Backoff(IntFunction<Duration> delays) {
        this.delays = Objects.requireNonNull(delays, "delays");
    }

    /** Records a failure at {@code now}; returns the delay until the next attempt. */
    synchronized Duration failed(Instant now) {
        failures++;
        Duration d = delays.apply(failures);
        retryAt = now.plus(d);
        return d;
    }

    /** Records a success: the next attempt may run at once. */
    synchronized void succeeded() {
        failures = 0;
        retryAt = null;
    }

    /** Whether an attempt at {@code now} has to wait for the back-off to end. */
    synchronized boolean waiting(Instant now) {
        return retryAt != null && now.isBefore(retryAt);
    }

    /** Consecutive failures so far. */
    synchronized int failures() {
        return failures;
    }

    /** When the next attempt may run, or {@code null} when it may run at once. */
    synchronized @Nullable Instant retryAt() {
        return retryAt;
    }
}
