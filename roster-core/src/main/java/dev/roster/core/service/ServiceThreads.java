package dev.roster.core.service;

import dev.roster.core.nearcache.NearCache;
import dev.roster.core.replay.ReplayStep;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every thread and executor of one snapshot service, and the order in which they start and stop.
 *
 * <p>From construction: a pool of {@code replay.rebuild_parallelism} threads that rebuild buckets, a
 * small pool for database fallback queries, and (unless rebuilds run inline, for step-driven tests)
 * the full-rebuild thread. From {@link #start}: the replay thread (polls every {@code
 * outbox_poll_interval_seconds} or at once after {@link #wake()}, again at once while a poll says
 * there is more), the lease-renewal timer, the near cache with its threads, the serving-digest timer
 * (with a near cache) and the last-used flush timer (with a writer).
 *
 * <p>Contract of {@link #close(Runnable, Runnable)}: idempotent; stops the replay thread first (no batch starts after
 * it), then the serving timer, the near cache and the flush timer, runs the final last-used flush, stops
 * the lease timer, lets a running full rebuild and bucket rebuilds end, and releases the replayer lease
 * last so another instance takes over at once. Each wait is bounded (30 s).
 *
 * <p>Thread-safe.
 */
final class ServiceThreads {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceThreads.class);

    /**
     * What the background threads run.
     *
     * @param beforeStart run once under the start lock before any thread starts (never throws)
     * @param replayStep one replay poll
     * @param renewLease the lease renewal (the lease keeper's check)
     * @param openNearCache the started near cache, or {@code null} when it is disabled
     * @param publishServing one serving-digest publish (never throws)
     * @param flushLastUsed one last-used flush (never throws), or {@code null} without a writer
     */
    record Work(
            Runnable beforeStart,
            Supplier<ReplayStep> replayStep,
            Runnable renewLease,
            Supplier<NearCache> openNearCache,
            Runnable publishServing,
            @Nullable Runnable flushLastUsed) {
        Work {
            Objects.requireNonNull(beforeStart, "beforeStart");
            Objects.requireNonNull(replayStep, "replayStep");
            Objects.requireNonNull(renewLease, "renewLease");
            Objects.requireNonNull(openNearCache, "openNearCache");
            Objects.requireNonNull(publishServing, "publishServing");
        }
    }

    /**
     * When the background threads run.
     *
     * @param poll the replay thread's idle wait
     * @param leaseRenew the lease renewal period
     * @param servingInterval the serving-digest period
     * @param lastUsedFlush the last-used flush period
     */
    record Timing(Duration poll, Duration leaseRenew, Duration servingInterval, Duration lastUsedFlush) {}

    private final ExecutorService bucketPool;
    private final ExecutorService fallbackPool;
    private final @Nullable ExecutorService rebuildThread;
    private final Executor rebuildExecutor;
    private final Semaphore wakeups = new Semaphore(0);
    private final Object lifecycle = new Object();
    private @Nullable Thread replayThread;
    private @Nullable ScheduledExecutorService leaseTimer;
    private @Nullable ScheduledExecutorService servingTimer;
    private @Nullable ScheduledExecutorService flushTimer;
    private volatile @Nullable NearCache nearCache;
    private volatile boolean closed;

    /** @param inlineRebuilds run full rebuilds on the requesting thread (step-driven tests) */
    ServiceThreads(int rebuildParallelism, boolean inlineRebuilds) {
        this.bucketPool = Executors.newFixedThreadPool(rebuildParallelism, daemon("roster-bucket"));
        this.fallbackPool = Executors.newFixedThreadPool(8, daemon("roster-fallback"));
        if (inlineRebuilds) {
            this.rebuildThread = null;
            this.rebuildExecutor = Runnable::run;
        } else {
            this.rebuildThread = Executors.newSingleThreadExecutor(daemon("roster-rebuild"));
            this.rebuildExecutor = rebuildThread;
        }
    }

    /** Where bucket rebuilds run in parallel. */
    ExecutorService bucketPool() {
        return bucketPool;
    }

    /** Where database fallback queries run. */
    ExecutorService fallbackPool() {
        return fallbackPool;
    }

    /** Where full rebuilds run: their own thread, or the caller's with inline rebuilds. */
    Executor rebuildExecutor() {
        return rebuildExecutor;
    }

    /** The started near cache, or {@code null} before {@link #start} or when it is disabled. */
    @Nullable
    NearCache nearCache() {
        return nearCache;
    }

    /**
     * Starts the background threads. Returns at once.
     *
     * @throws IllegalStateException when already started or closed
     */
    void start(Work w, Timing t) {
        Objects.requireNonNull(w, "work");
        Objects.requireNonNull(t, "timing");
        synchronized (lifecycle) {
            if (closed || replayThread != null) {
                throw new IllegalStateException("snapshot service already started or closed");
            }
            w.beforeStart().run();
            leaseTimer = Executors.newSingleThreadScheduledExecutor(daemon("roster-lease"));
            every(leaseTimer, t.leaseRenew(), w.renewLease());
            long pollMs = t.poll().toMillis();
            replayThread =
                    Thread.ofPlatform().daemon().name("roster-replay").start(() -> replayLoop(w.replayStep(), pollMs));
            nearCache = w.openNearCache().get();
            if (nearCache != null) {
                servingTimer = Executors.newSingleThreadScheduledExecutor(daemon("roster-serving"));
                every(servingTimer, t.servingInterval(), w.publishServing());
            }
            if (w.flushLastUsed() != null) {
                flushTimer = Executors.newSingleThreadScheduledExecutor(daemon("roster-last-used"));
                every(flushTimer, t.lastUsedFlush(), w.flushLastUsed());
            }
        }
    }

    private static void every(ScheduledExecutorService timer, Duration period, Runnable r) {
        long ms = period.toMillis();
        // No handle needed: close() stops the schedule by shutting the timer down.
        var unused = timer.scheduleWithFixedDelay(r, ms, ms, TimeUnit.MILLISECONDS);
    }

    private void replayLoop(Supplier<ReplayStep> step, long pollMs) {
        while (!closed) {
            ReplayStep s;
            try {
                s = step.get();
            } catch (RuntimeException e) {
                LOG.warn("replay step failed: {}", e.getMessage(), e);
                s = ReplayStep.FAILED;
            }
            if (s == ReplayStep.MORE) {
                continue;
            }
            try {
                wakeups.tryAcquire(pollMs, TimeUnit.MILLISECONDS);
                wakeups.drainPermits();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Wakes the replay thread now. Never blocks. */
    void wake() {
        if (wakeups.availablePermits() == 0) {
            wakeups.release();
        }
    }

    /**
     * Stops everything in the order of the class contract; {@code finalFlush} runs once the flush timer
     * stopped, {@code releaseLease} last. Idempotent (the second call runs neither).
     */
    void close(Runnable finalFlush, Runnable releaseLease) {
        Thread t;
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            t = replayThread;
        }
        if (t != null) {
            t.interrupt();
            join(t);
        }
        stop(servingTimer);
        NearCache nc = nearCache;
        if (nc != null) {
            nc.close();
        }
        stop(flushTimer);
        finalFlush.run();
        stop(leaseTimer);
        if (rebuildThread != null) {
            rebuildThread.shutdown();
            awaitTermination(rebuildThread);
        }
        fallbackPool.shutdownNow();
        awaitTermination(fallbackPool);
        bucketPool.shutdown();
        awaitTermination(bucketPool);
        releaseLease.run();
    }

    private static void stop(@Nullable ScheduledExecutorService timer) {
        if (timer != null) {
            timer.shutdownNow();
            awaitTermination(timer);
        }
    }

    private static void join(Thread t) {
        try {
            t.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitTermination(ExecutorService e) {
        try {
            if (!e.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("an executor did not stop within 30 s");
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }

    private static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> Thread.ofPlatform()
                .daemon()
                .name(name + "-" + n.incrementAndGet())
                .unstarted(r);
    }
}
