package dev.roster.core.replay;

import dev.roster.core.config.SchedulingConfig;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns pending/lag observations into full-rebuild requests with the seed's thresholds ({@code
 * outbox_lag_warn_seconds}, {@code outbox_lag_rebuild_seconds}, {@code outbox_lag_rebuild_failures},
 * {@code outbox_backlog_rebuild_rows}) and upstream's later fixes (docs/upstream.md L9, L11): lag is the age
 * of the oldest <em>pending</em> event by the database clock; a degraded episode triggers one rebuild,
 * and a successful one latches the episode until lag and backlog both recover; a failed one is
 * retried after 5 s doubling to 5 min, never on every poll; retry state belongs to its reason; the
 * warning is logged on the transition only. Thread-safe.
 */
public final class LagMonitor {
    private static final Logger LOG = LoggerFactory.getLogger(LagMonitor.class);
    static final Duration FIRST_RETRY = Duration.ofSeconds(5);
    static final Duration MAX_RETRY = Duration.ofMinutes(5);

    /** Reasons passed to the rebuild requester. */
    public static final String LAG = "outbox_lag";

    public static final String BACKLOG = "outbox_backlog";

    private final SchedulingConfig cfg;
    private final InstantSource clock;
    private final Function<String, java.util.concurrent.CompletableFuture<Void>> rebuild;

    private int lagObservations;
    private boolean warned;
    private boolean latched;
    private boolean running;
    private @Nullable String reason;
    private int failures;
    private @Nullable Instant retryAt;
    private long triggered;
    private long warnings;

    public LagMonitor(
            SchedulingConfig cfg,
            InstantSource clock,
            Function<String, java.util.concurrent.CompletableFuture<Void>> rebuild) {
        this.cfg = Objects.requireNonNull(cfg, "cfg");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.rebuild = Objects.requireNonNull(rebuild, "rebuild");
    }

    /** The delay before retry number {@code failures} (1-based): 5 s doubling, capped at 5 min. */
    public static Duration retryDelay(int failures) {
        Duration d = FIRST_RETRY;
        for (int i = 1; i < failures && d.compareTo(MAX_RETRY) < 0; i++) {
            d = d.multipliedBy(2);
        }
        return d.compareTo(MAX_RETRY) > 0 ? MAX_RETRY : d;
    }

    /** An empty poll: nothing is pending, so the episode is over (without extra queries). */
    public synchronized void caughtUp() {
        observe(0, Duration.ZERO);
    }

    /** One observation of the backlog (pending events) and the lag. */
    public void observe(long pending, Duration lag) {
        String want;
        synchronized (this) {
            long lagSeconds = lag.toSeconds();
            boolean warn = cfg.outboxLagWarnSeconds() > 0 && lagSeconds >= cfg.outboxLagWarnSeconds();
            if (warn && !warned) {
                warnings++;
                LOG.warn("outbox lag warning: {} s, {} pending", lagSeconds, pending);
            }
            warned = warn;
            boolean lagHigh = cfg.outboxLagRebuildSeconds() > 0 && lagSeconds >= cfg.outboxLagRebuildSeconds();
            lagObservations = lagHigh ? lagObservations + 1 : 0;
            boolean backlogHigh = cfg.outboxBacklogRebuildRows() > 0 && pending >= cfg.outboxBacklogRebuildRows();
            if (!lagHigh && !backlogHigh) {
                // Recovery re-arms the trigger; a rebuild still running keeps its ownership.
                latched = false;
                reason = null;
                failures = 0;
                retryAt = null;
                return;
            }
            boolean lagTrigger = lagHigh && lagObservations >= cfg.outboxLagRebuildFailures();
            want = lagTrigger ? LAG : backlogHigh ? BACKLOG : null;
            if (want == null || latched || running) {
                return;
            }
            Instant now = clock.instant();
            if (want.equals(reason) && retryAt != null && now.isBefore(retryAt)) {
                return;
            }
            if (!want.equals(reason)) {
                failures = 0;
                retryAt = null;
            }
            reason = want;
            running = true;
            triggered++;
            LOG.warn("outbox {} rebuild triggered: lag={}s pending={}", want, lagSeconds, pending);
        }
        String why = want;
        // The outcome is handled in done; the stage whenComplete returns is not needed.
        var unused = rebuild.apply(why).whenComplete((v, e) -> done(why, e));
    }

    private synchronized void done(String why, @Nullable Throwable error) {
        running = false;
        if (!why.equals(reason)) {
            return;
        }
        if (error == null) {
            latched = true;
            failures = 0;
            retryAt = null;
        } else {
            failures++;
            retryAt = clock.instant().plus(retryDelay(failures));
        }
    }

    /** How many rebuilds this monitor requested. */
    public synchronized long triggered() {
        return triggered;
    }

    /** How many lag warnings were logged (transitions into the warned state). */
    public synchronized long warnings() {
        return warnings;
    }

    /** Whether the current degraded episode is latched (its rebuild succeeded). */
    public synchronized boolean latched() {
        return latched;
    }
}
