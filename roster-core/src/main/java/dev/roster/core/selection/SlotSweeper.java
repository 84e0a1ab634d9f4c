package dev.roster.core.selection;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link Selector#sweepExpired()} every {@code slot_cleanup_interval} on a daemon thread of its own
 * ({@code 0} disables it). Counts already ignore expired slots, so the sweep only keeps the store small;
 * a failing sweep is logged and retried at the next interval. Close it with the selector.
 */
public final class SlotSweeper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SlotSweeper.class);

    private final @Nullable ScheduledExecutorService executor;

    private SlotSweeper(@Nullable ScheduledExecutorService executor) {
        this.executor = executor;
    }

    /** Starts sweeping {@code selector}'s accounts every {@code interval}; a zero interval starts nothing. */
    public static SlotSweeper start(Selector selector, Duration interval) {
        Objects.requireNonNull(selector, "selector");
        if (interval == null || interval.isNegative()) {
            throw new IllegalArgumentException("slot_cleanup_interval must be a duration >= 0, got " + interval);
        }
        if (interval.isZero()) {
            return new SlotSweeper(null);
        }
        ScheduledExecutorService ex = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "roster-slot-sweeper");
            t.setDaemon(true);
            return t;
        });
        long ms = interval.toMillis();
        // No handle needed: the sweeper stops the schedule by shutting the executor down.
        var unused = ex.scheduleWithFixedDelay(
                () -> {
                    try {
                        int n = selector.sweepExpired();
                        if (n > 0) {
                            LOG.debug("swept {} expired slots and wait tickets", n);
                        }
                    } catch (RuntimeException e) {
                        LOG.warn("slot sweep failed (retried next interval): {}", e.getMessage());
                    }
                },
                ms,
                ms,
                TimeUnit.MILLISECONDS);
        return new SlotSweeper(ex);
    }

    /** Whether sweeping is enabled. */
    public boolean enabled() {
        return executor != null;
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}
