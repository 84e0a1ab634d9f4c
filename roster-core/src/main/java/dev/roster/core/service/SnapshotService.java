package dev.roster.core.service;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.Platforms;
import dev.roster.core.TimeFilter;
import dev.roster.core.audit.AuditReport;
import dev.roster.core.audit.Auditor;
import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.internal.Engine;
import dev.roster.core.internal.FallbackLimiter;
import dev.roster.core.internal.Universe;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ProjectionException;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.projection.VersionTicket;
import dev.roster.core.replay.FullRebuilder;
import dev.roster.core.replay.LagMonitor;
import dev.roster.core.replay.LeaseKeeper;
import dev.roster.core.replay.ReplayStep;
import dev.roster.core.replay.Replayer;
import dev.roster.core.source.SchedulingSource;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The scheduler snapshot service: sub2api's {@code SchedulerSnapshotService} re-implemented over a
 * {@link SchedulingSource} (the source of truth) and a {@link Projection} (the shared snapshots).
 *
 * <p><b>Hot path.</b> {@link #list} resolves the mode (forced when the route pins the platform, mixed
 * for anthropic and gemini, single otherwise) and the group (0 in simple run mode or when absent),
 * reads the bucket's snapshot in one round trip and applies the time filter at the injected clock's
 * instant. An empty snapshot is a valid answer. On a miss (or a projection error) it falls back to the
 * database, guarded: {@code db_fallback_enabled = false} gives {@link CacheNotReadyException}; more
 * than {@code db_fallback_max_qps} fallback queries in a second give {@link FallbackLimitedException};
 * the wait is bounded by {@code db_fallback_timeout_seconds} and the caller's budget ({@link
 * FallbackTimeoutException}); concurrent misses of one bucket share one query; the result is published
 * under a version allocated before the read, so it never replaces newer data.
 *
 * <p><b>Background work</b> (after {@link #start()}): a replay thread polls the outbox every {@code
 * outbox_poll_interval_seconds} or when {@link #wake()} is called (the database notification), a
 * rebuild thread runs coalesced full rebuilds, a pool of {@code replay.rebuild_parallelism} threads
 * rebuilds buckets, a timer renews the replayer lease, and a small pool runs fallback queries. {@link
 * #close()} stops all of them and releases the lease. Without {@link #start()} nothing runs in the
 * background and tests drive {@link #replayer()} step by step.
 *
 * <p>Thread-safe.
 */
public final class SnapshotService implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SnapshotService.class.getName());

    private final Engine engine;
    private final SchedulingSource source;
    private final Projection projection;
    private final ServiceConfig config;
    private final InstantSource clock;
    private final FallbackLimiter limiter;
    private final LeaseKeeper leases;
    private final FullRebuilder rebuilder;
    private final Replayer replayer;
    private final ExecutorService bucketPool;
    private final ExecutorService fallbackPool;
    private final ExecutorService rebuildThread;
    private final boolean ownsRebuildThread;
    private final Map<Bucket, CompletableFuture<Loaded>> inflight = new ConcurrentHashMap<>();
    private final Semaphore wakeups = new Semaphore(0);
    private final AtomicLong fallbackQueries = new AtomicLong();
    private final Object lifecycle = new Object();
    private Thread replayThread;
    private ScheduledExecutorService timer;
    private volatile boolean closed;

    private SnapshotService(Builder b) {
        this.source = Objects.requireNonNull(b.source, "source");
        this.projection = Objects.requireNonNull(b.projection, "projection");
        this.config = Objects.requireNonNull(b.config, "config");
        this.clock = Objects.requireNonNull(b.clock, "clock");
        this.bucketPool = Executors.newFixedThreadPool(config.replay().rebuildParallelism(), daemon("roster-bucket"));
        this.fallbackPool = Executors.newFixedThreadPool(8, daemon("roster-fallback"));
        this.engine = new Engine(source, projection, config, clock, bucketPool);
        this.limiter = new FallbackLimiter(config.scheduling().dbFallbackMaxQps(), clock);
        this.leases = new LeaseKeeper(
                projection,
                clock,
                config.projection().leaseTtl(),
                config.projection().leaseRenew());
        Executor rebuildExecutor;
        if (b.inlineRebuilds) {
            this.rebuildThread = null;
            this.ownsRebuildThread = false;
            rebuildExecutor = Runnable::run;
        } else {
            this.rebuildThread = Executors.newSingleThreadExecutor(daemon("roster-rebuild"));
            this.ownsRebuildThread = true;
            rebuildExecutor = rebuildThread;
        }
        this.rebuilder = new FullRebuilder(engine, source.outbox(), leases, rebuildExecutor);
        LagMonitor lag = new LagMonitor(config.scheduling(), clock, rebuilder::request);
        DeadLetterSink sink = b.deadLetters != null
                ? b.deadLetters
                : (e, error, attempts) ->
                        LOG.log(Level.ERROR, "outbox event " + e.id() + " dead (no dead-letter store): " + error);
        this.replayer = new Replayer(engine, source.outbox(), leases, rebuilder, lag, sink);
    }

    /** A new builder. */
    public static Builder newBuilder() {
        return new Builder();
    }

    /**
     * Starts the background work: the replay thread (which also checks the generation and, as lease
     * holder, starts the full rebuild when the projection is not current), the lease renewal timer.
     * Returns at once; {@link #ready()} tells when the projection has been verified or rebuilt.
     *
     * @throws IllegalStateException when already started or closed
     */
    public SnapshotService start() {
        synchronized (lifecycle) {
            if (closed || replayThread != null) {
                throw new IllegalStateException("snapshot service already started or closed");
            }
            try {
                engine.adoptStoredGeneration();
            } catch (ProjectionException e) {
                // Not a start failure: the service starts not ready and the replay loop retries.
                LOG.log(Level.WARNING, "projection unavailable at start: " + e.getMessage());
            }
            timer = Executors.newSingleThreadScheduledExecutor(daemon("roster-lease"));
            long renewMs = config.projection().leaseRenew().toMillis();
            timer.scheduleWithFixedDelay(leases::current, renewMs, renewMs, TimeUnit.MILLISECONDS);
            replayThread = Thread.ofPlatform().daemon().name("roster-replay").start(this::replayLoop);
        }
        return this;
    }

    private void replayLoop() {
        long pollMs = config.scheduling().outboxPollIntervalSeconds() * 1000L;
        while (!closed) {
            ReplayStep step;
            try {
                step = replayer.pollOnce();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "replay step failed: " + e.getMessage(), e);
                step = ReplayStep.FAILED;
            }
            if (step == ReplayStep.MORE) {
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

    /** Wakes the replay thread (call it on the database's outbox notification). Never blocks. */
    public void wake() {
        if (wakeups.availablePermits() == 0) {
            wakeups.release();
        }
    }

    /** Whether the projection was found current or fully rebuilt since start. */
    public boolean ready() {
        return engine.ready();
    }

    /** The replayer, for step-driven tests and operators' tools. */
    public Replayer replayer() {
        return replayer;
    }

    /** The full rebuilder (coalesced), for step-driven tests and the admin endpoint. */
    public FullRebuilder rebuilder() {
        return rebuilder;
    }

    /** Requests a full rebuild (coalesced); the future completes when a run that started after it ends. */
    public CompletableFuture<Void> requestFullRebuild(String reason) {
        return rebuilder.request(reason);
    }

    /** Whether this instance currently holds the replayer lease. */
    public boolean isReplayer() {
        return leases.held().isPresent();
    }

    /** How many database fallback queries this instance ran. */
    public long fallbackQueries() {
        return fallbackQueries.get();
    }

    /** The generation id this instance publishes under and serves. */
    public String generation() {
        return engine.generationId();
    }

    // ---- hot path -----------------------------------------------------------------------------

    /** {@link #list(Long, String, boolean, Duration)} without a caller deadline. */
    public ListResult list(Long groupId, String platform, boolean forcePlatform) {
        return list(groupId, platform, forcePlatform, null);
    }

    /**
     * The schedulable accounts of the request's bucket at this instant, in the bucket query's order.
     *
     * @param groupId the API key's group, or {@code null} for none
     * @param platform the request's platform (well formed; an unknown one is an empty bucket)
     * @param forcePlatform whether the route pins the platform
     * @param budget how long the caller can wait for a database fallback, or {@code null} for no limit
     * @throws IllegalArgumentException when the platform is malformed
     * @throws CacheNotReadyException when there is no snapshot and the fallback is disabled
     * @throws FallbackLimitedException when there is no snapshot and the fallback QPS is exhausted
     * @throws FallbackTimeoutException when the fallback did not answer in time
     * @throws StoreUnavailableException when the fallback failed
     */
    public ListResult list(Long groupId, String platform, boolean forcePlatform, Duration budget) {
        Platforms.require(platform);
        Mode mode = Mode.resolve(platform, forcePlatform);
        boolean useMixed = mode == Mode.MIXED;
        Bucket bucket = new Bucket(Universe.normalizeGroup(groupId, config.runMode()), platform, mode);
        try {
            Lookup<Snapshot> l = projection.readSnapshot(bucket);
            if (l instanceof Lookup.Hit<Snapshot> hit
                    && engine.accepts(hit.found().generation())) {
                Snapshot s = hit.found();
                return new ListResult(
                        bucket,
                        TimeFilter.apply(s.cards(), clock.instant()),
                        useMixed,
                        s.generation(),
                        s.version(),
                        ListResult.Source.PROJECTION);
            }
        } catch (ProjectionException e) {
            LOG.log(Level.DEBUG, "snapshot read failed for " + bucket + ": " + e.getMessage());
        }
        Loaded loaded = fallback(bucket, budget);
        return new ListResult(
                bucket,
                TimeFilter.apply(loaded.cards, clock.instant()),
                useMixed,
                loaded.generation,
                loaded.version,
                ListResult.Source.DATABASE);
    }

    /** {@link #getAccount(long, Duration)} without a caller deadline. */
    public Optional<AccountCard> getAccount(long accountId) {
        return getAccount(accountId, null);
    }

    /**
     * The card of an account (whatever its schedulability), from the projection or, on a miss, from
     * the database under the same guards as {@link #list}. Empty for ids &le; 0 and absent accounts.
     */
    public Optional<AccountCard> getAccount(long accountId, Duration budget) {
        if (accountId <= 0) {
            return Optional.empty();
        }
        try {
            Optional<AccountCard> c = projection.card(accountId).value();
            if (c.isPresent()) {
                return c;
            }
        } catch (ProjectionException e) {
            LOG.log(Level.DEBUG, "card read failed for account " + accountId + ": " + e.getMessage());
        }
        String what = "account " + accountId;
        guard(what);
        fallbackQueries.incrementAndGet();
        CompletableFuture<Optional<AccountCard>> f = CompletableFuture.supplyAsync(
                () -> Optional.ofNullable(source.loadCards(List.of(accountId)).get(accountId)), fallbackPool);
        return await(f, what, budget);
    }

    private void guard(String what) {
        SchedulingConfig s = config.scheduling();
        if (!s.dbFallbackEnabled()) {
            throw new CacheNotReadyException(what);
        }
        if (!limiter.tryAcquire()) {
            throw new FallbackLimitedException(what, s.dbFallbackMaxQps());
        }
    }

    private record Loaded(List<AccountCard> cards, String generation, long version) {}

    private Loaded fallback(Bucket bucket, Duration budget) {
        String what = "bucket " + bucket;
        CompletableFuture<Loaded> f;
        CompletableFuture<Loaded> mine = null;
        synchronized (inflight) {
            f = inflight.get(bucket);
            if (f == null) {
                guard(what);
                mine = new CompletableFuture<>();
                inflight.put(bucket, mine);
                f = mine;
            }
        }
        if (mine != null) {
            CompletableFuture<Loaded> leader = mine;
            fallbackQueries.incrementAndGet();
            try {
                fallbackPool.execute(() -> runFallback(bucket, leader));
            } catch (RuntimeException e) {
                inflight.remove(bucket, leader);
                leader.completeExceptionally(e);
            }
        }
        return await(f, what, budget);
    }

    private void runFallback(Bucket bucket, CompletableFuture<Loaded> f) {
        try {
            // The ticket comes first: a result read after it can only lose to a newer allocation.
            VersionTicket ticket = null;
            try {
                ticket = projection.allocateVersion(bucket).orElse(null);
            } catch (ProjectionException e) {
                LOG.log(Level.DEBUG, "no version for fallback of " + bucket + ": " + e.getMessage());
            }
            List<AccountCard> cards = engine.load(bucket);
            String generation = engine.generationId();
            if (ticket != null) {
                try {
                    projection.publish(ticket, generation, cards);
                } catch (ProjectionException e) {
                    LOG.log(Level.DEBUG, "publishing fallback of " + bucket + " failed: " + e.getMessage());
                }
            }
            // A retired bucket is served from the database and never republished.
            f.complete(ticket == null ? new Loaded(cards, "", 0) : new Loaded(cards, generation, ticket.version()));
        } catch (Throwable t) {
            f.completeExceptionally(t);
        } finally {
            inflight.remove(bucket, f);
        }
    }

    private <T> T await(CompletableFuture<T> f, String what, Duration budget) {
        Duration limit = null;
        int seconds = config.scheduling().dbFallbackTimeoutSeconds();
        if (seconds > 0) {
            limit = Duration.ofSeconds(seconds);
        }
        if (budget != null && (limit == null || budget.compareTo(limit) < 0)) {
            limit = budget.isNegative() ? Duration.ZERO : budget;
        }
        try {
            return limit == null ? f.get() : f.get(limit.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new FallbackTimeoutException(what, limit);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof SchedulerException se) {
                throw se;
            }
            throw new StoreUnavailableException(what, c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FallbackTimeoutException(what, limit == null ? Duration.ZERO : limit);
        }
    }

    // ---- audit --------------------------------------------------------------------------------

    /** Audits the projection against the source (design §1); see {@link Auditor}. */
    public AuditReport audit() {
        return new Auditor(source, projection, config, engine::generationId).audit();
    }

    /** The instant of the injected clock (for callers that judge cards themselves). */
    public Instant now() {
        return clock.instant();
    }

    // ---- lifecycle ----------------------------------------------------------------------------

    /**
     * Stops every thread this service started (waiting for running work to end), then releases the
     * replayer lease so another instance takes over at once. The projection and source are not closed
     * (the caller owns them). Idempotent.
     */
    @Override
    public void close() {
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
        if (timer != null) {
            timer.shutdownNow();
            awaitTermination(timer);
        }
        if (ownsRebuildThread) {
            rebuildThread.shutdown();
            awaitTermination(rebuildThread);
        }
        fallbackPool.shutdownNow();
        awaitTermination(fallbackPool);
        bucketPool.shutdown();
        awaitTermination(bucketPool);
        leases.release();
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
                LOG.log(Level.WARNING, "an executor did not stop within 30 s");
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

    /**
     * Builds a {@link SnapshotService}. Required: {@link #source}, {@link #projection}. Defaults: {@link
     * ServiceConfig#DEFAULTS}, the system clock, dead letters only logged, rebuilds on their own thread.
     */
    public static final class Builder {
        private SchedulingSource source;
        private Projection projection;
        private ServiceConfig config = ServiceConfig.DEFAULTS;
        private InstantSource clock = InstantSource.system();
        private DeadLetterSink deadLetters;
        private boolean inlineRebuilds;

        private Builder() {}

        /** The source of truth (and its outbox). */
        public Builder source(SchedulingSource v) {
            this.source = Objects.requireNonNull(v, "source");
            return this;
        }

        /** The shared projection. */
        public Builder projection(Projection v) {
            this.projection = Objects.requireNonNull(v, "projection");
            return this;
        }

        /** The configuration. */
        public Builder config(ServiceConfig v) {
            this.config = Objects.requireNonNull(v, "config");
            return this;
        }

        /** The application clock (time filter, limiter window, back-offs, lease timing). */
        public Builder clock(InstantSource v) {
            this.clock = Objects.requireNonNull(v, "clock");
            return this;
        }

        /** Where events that cannot be applied are parked (the dead-letter table). */
        public Builder deadLetters(DeadLetterSink v) {
            this.deadLetters = Objects.requireNonNull(v, "deadLetters");
            return this;
        }

        /**
         * Runs full rebuilds on the requesting thread instead of a dedicated one, so a step-driven
         * test sees them complete within {@link Replayer#pollOnce()}. Not for production.
         */
        public Builder inlineRebuilds(boolean v) {
            this.inlineRebuilds = v;
            return this;
        }

        /** Builds the service (not started). */
        public SnapshotService build() {
            return new SnapshotService(this);
        }
    }
}
