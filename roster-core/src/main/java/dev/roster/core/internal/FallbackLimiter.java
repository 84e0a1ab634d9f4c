package dev.roster.core.internal;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import org.jspecify.annotations.Nullable;

/**
 * The seed's instance-local fixed-window limiter (docs/upstream.md U-FALLBACK): the window restarts once
 * a second has passed since it began; a call is allowed while fewer than {@code maxQps} were allowed
 * in the window. {@code maxQps <= 0} means unlimited. Thread-safe.
 */
public final class FallbackLimiter {
    private static final Duration WINDOW = Duration.ofSeconds(1);

    private final int maxQps;
    private final InstantSource clock;
    private @Nullable Instant windowStart;
    private int count;

    public FallbackLimiter(int maxQps, InstantSource clock) {
        this.maxQps = maxQps;
        this.clock = clock;
    }

    /** Whether one more fallback query may run now (and counts it if so). */
    public synchronized boolean tryAcquire() {
        if (maxQps <= 0) {
            return true;
        }
        Instant now = clock.instant();
        if (windowStart == null || !now.isBefore(windowStart.plus(WINDOW))) {
            windowStart = now;
            count = 0;
        }
        if (count >= maxQps) {
            return false;
        }
        count++;
        return true;
    }
}
