package dev.roster.core.service;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.Platforms;
import dev.roster.core.TimeFilter;
import dev.roster.core.audit.AuditReport;
import dev.roster.core.audit.Auditor;
import dev.roster.core.audit.ServingAuditor;
import dev.roster.core.audit.ServingReport;
import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.internal.Engine;
import dev.roster.core.internal.FallbackLimiter;
import dev.roster.core.internal.Universe;
import dev.roster.core.nearcache.NearCache;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ProjectionException;
import dev.roster.core.projection.PublishOutcome;
import dev.roster.core.projection.ServingDigest;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.projection.VersionTicket;
import dev.roster.core.replay.DeadLetterSink;
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
import java.util.Collection;
import java.util.HashMap;
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
 * <p><b>Near cache.</b> Once {@linkplain #start() started} with {@code near_cache.enabled}, {@link #list}
 * first asks the {@link NearCache}: a warm bucket confirmed within {@code near_cache.max_stale} is
 * answered from memory (one volatile read, no lock, no I/O); a cold or stale one is read from the
 * projection once for all concurrent callers and cached; when the projection fails too the guarded
 * database path below answers. Per bucket, no answer from the near cache or the projection ever has
 * an older (generation, version) than one this instance already served. A service that is not started
 * has no near cache (nothing would keep it current), so step-driven tests see the projection directly.
 *
 * <p><b>Last-used.</b> {@link #markUsed} moves the local view and the projection's value forward at
 * once and queues the value for the {@link LastUsedWriter}, flushed every {@code
 * near_cache.last_used_flush_interval} in one batch and on {@link #close()}.
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
    private final LastUsedWriter lastUsedWriter;
    private final ConcurrentHashMap<Long, Instant> localLastUsed = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, Instant> pendingLastUsed = new ConcurrentHashMap<>();
    private final AtomicLong lastUsedFlushes = new AtomicLong();
    private final AtomicLong lastUsedProjectionFailures = new AtomicLong();
    private final Object flushLock = new Object();
    private volatile NearCache nearCache;
    private final String instanceId = newInstanceId();
    private final Map<Bucket, ChecksumMemo> checksums = new java.util.HashMap<>();
    private ScheduledExecutorService servingTimer;

    /** How often a started service publishes its serving digest. */
    public static final Duration SERVING_INTERVAL = Duration.ofSeconds(10);

    /** How long a published serving digest lives: three intervals, so one lost publish is no gap. */
    public static final Duration SERVING_TTL = SERVING_INTERVAL.multipliedBy(3);

    private ScheduledExecutorService flushTimer;
    private final Object lifecycle = new Object();
    private Thread replayThread;
    private ScheduledExecutorService timer;
    private volatile boolean closed;

    private SnapshotService(Builder b) {
        this.source = Objects.requireNonNull(b.source, "source");
        this.projection = Objects.requireNonNull(b.projection, "projection");
        this.config = Objects.requireNonNull(b.config, "config");
        this.clock = Objects.requireNonNull(b.clock, "clock");
        this.lastUsedWriter = b.lastUsedWriter;
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
        rebuilder.onHandOver(this::wake);
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
            if (config.nearCache().enabled()) {
                nearCache = new NearCache(projection, engine::accepts, clock, config.nearCache()).start();
            }
            if (nearCache != null) {
                servingTimer = Executors.newSingleThreadScheduledExecutor(daemon("roster-serving"));
                long ms = SERVING_INTERVAL.toMillis();
                servingTimer.scheduleWithFixedDelay(this::publishServingQuietly, ms, ms, TimeUnit.MILLISECONDS);
            }
            if (lastUsedWriter != null) {
                flushTimer = Executors.newSingleThreadScheduledExecutor(daemon("roster-last-used"));
                long flushMs = config.nearCache().lastUsedFlushInterval().toMillis();
                flushTimer.scheduleWithFixedDelay(this::flushLastUsedQuietly, flushMs, flushMs, TimeUnit.MILLISECONDS);
            }
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

    /**
     * Rebuilds one bucket now from the source (the admin "rebuild this bucket" action): a bucket of a
     * group that is no longer active is retired instead. Serialised with replay batches and full
     * rebuilds.
     *
     * @return {@code true} when the bucket has a current snapshot afterwards, {@code false} when it was
     *     retired
     * @throws dev.roster.core.source.SourceException when the source cannot be read
     * @throws ProjectionException when the projection cannot be written
     */
    public boolean rebuildBucket(Bucket bucket) {
        Objects.requireNonNull(bucket, "bucket");
        engine.applyLock().lock();
        try {
            java.util.Set<Long> active = new java.util.HashSet<>();
            for (dev.roster.core.source.GroupInfo g : source.activeGroups()) {
                active.add(g.id());
            }
            return engine.rebuild(bucket, active) != Engine.Outcome.RETIRED;
        } finally {
            engine.applyLock().unlock();
        }
    }

    /**
     * Backlog, lag and the horizon's holder against the replayer's cursor (watermark and applied ids),
     * so that events applied above a pinned watermark are not counted as pending: this instance's own
     * cursor when it holds the replayer lease, otherwise the cursor the holder last published in the
     * projection, and only when none was ever published the shared watermark with nothing applied above
     * it (an upper bound; the first batch of a holder publishes a cursor).
     *
     * @throws dev.roster.core.source.SourceException when the database cannot be read
     * @throws ProjectionException when the projection cannot be read (non-holders only)
     */
    public dev.roster.core.outbox.OutboxStats outboxStats() {
        Optional<dev.roster.core.outbox.CursorState> own = replayer.cursorState();
        if (own.isPresent()) {
            return own.get().stats(source.outbox());
        }
        Optional<dev.roster.core.outbox.CursorState> holder =
                projection.replayCursor().value();
        if (holder.isPresent()) {
            return holder.get().stats(source.outbox());
        }
        return source.outbox().stats(projection.watermark().value().orElse(0L), java.util.Set.of());
    }

    /** Whether this instance currently holds the replayer lease. */
    public boolean isReplayer() {
        return leases.held().isPresent();
    }

    /** How many database fallback queries this instance ran. */
    public long fallbackQueries() {
        return fallbackQueries.get();
    }

    /** The near cache, or empty when the service is not started or the cache is disabled. */
    public Optional<NearCache> nearCache() {
        return Optional.ofNullable(nearCache);
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
        NearCache nc = nearCache;
        if (nc != null) {
            return listNear(nc, bucket, useMixed, budget);
        }
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

    private ListResult listNear(NearCache nc, Bucket bucket, boolean useMixed, Duration budget) {
        NearCache.Entry e = nc.get(bucket);
        if (e != null) {
            return fromEntry(bucket, e, useMixed, ListResult.Source.NEAR_CACHE);
        }
        try {
            e = nc.load(bucket);
            if (e != null) {
                return fromEntry(bucket, e, useMixed, ListResult.Source.PROJECTION);
            }
        } catch (ProjectionException ex) {
            LOG.log(Level.DEBUG, "snapshot read failed for " + bucket + ": " + ex.getMessage());
        }
        Loaded loaded = fallback(bucket, budget);
        if (loaded.version > 0) {
            // Activated under this version: cache it, unless this instance already served newer or the
            // bucket was retired since the read began.
            NearCache.Entry o =
                    nc.offer(new Snapshot(bucket, loaded.generation, loaded.version, loaded.cards), loaded.retireMark);
            if (o != null) {
                boolean mine = o.snapshot().version() == loaded.version
                        && o.snapshot().generation().equals(loaded.generation);
                return fromEntry(bucket, o, useMixed, mine ? ListResult.Source.DATABASE : ListResult.Source.NEAR_CACHE);
            }
        }
        return new ListResult(
                bucket,
                TimeFilter.apply(loaded.cards, clock.instant()),
                useMixed,
                loaded.generation,
                loaded.version,
                ListResult.Source.DATABASE);
    }

    private ListResult fromEntry(Bucket bucket, NearCache.Entry e, boolean useMixed, ListResult.Source source) {
        Snapshot s = e.snapshot();
        return new ListResult(
                bucket, TimeFilter.apply(s.cards(), clock.instant()), useMixed, s.generation(), s.version(), source);
    }

    // ---- last-used ----------------------------------------------------------------------------

    /**
     * Records that {@code accountId} was used at {@code at}: the local view and the projection's
     * last-used value move forward at once (monotonic; a projection error is logged and counted, never
     * thrown, since the request already went out), and the value is queued for the batched write to
     * the source of truth.
     *
     * @throws IllegalArgumentException when {@code accountId <= 0}
     */
    public void markUsed(long accountId, Instant at) {
        if (accountId <= 0) {
            throw new IllegalArgumentException("account id must be > 0, got " + accountId);
        }
        Objects.requireNonNull(at, "at");
        localLastUsed.merge(accountId, at, SnapshotService::later);
        if (lastUsedWriter != null) {
            pendingLastUsed.merge(accountId, at, SnapshotService::later);
        }
        try {
            projection.markUsed(Map.of(accountId, at));
        } catch (ProjectionException e) {
            lastUsedProjectionFailures.incrementAndGet();
            LOG.log(
                    Level.DEBUG,
                    "last-used of account " + accountId + " not written to the projection: " + e.getMessage());
        }
    }

    /**
     * The last-used times of {@code accountIds} that have one: the projection's values merged with
     * this instance's local view (the later wins); only the local view when the projection fails.
     */
    public Map<Long, Instant> lastUsed(Collection<Long> accountIds) {
        Map<Long, Instant> out = new HashMap<>();
        try {
            out.putAll(projection.lastUsed(accountIds));
        } catch (ProjectionException e) {
            LOG.log(Level.DEBUG, "last-used read failed: " + e.getMessage());
        }
        for (Long id : accountIds) {
            Instant local = localLastUsed.get(id);
            if (local != null) {
                out.merge(id, local, SnapshotService::later);
            }
        }
        return out;
    }

    /**
     * Writes every queued last-used value now, in one call of the {@link LastUsedWriter}. Values that
     * fail stay queued. Returns how many accounts were written (0 without a writer).
     */
    public int flushLastUsed() {
        if (lastUsedWriter == null) {
            return 0;
        }
        synchronized (flushLock) {
            if (pendingLastUsed.isEmpty()) {
                return 0;
            }
            Map<Long, Instant> batch = new HashMap<>(pendingLastUsed);
            // Remove only what we took: a newer value that arrives meanwhile stays queued.
            batch.forEach(pendingLastUsed::remove);
            try {
                lastUsedWriter.write(batch);
                lastUsedFlushes.incrementAndGet();
                return batch.size();
            } catch (RuntimeException e) {
                batch.forEach((id, t) -> pendingLastUsed.merge(id, t, SnapshotService::later));
                throw e;
            }
        }
    }

    private void flushLastUsedQuietly() {
        try {
            flushLastUsed();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "last-used write-behind failed (kept for the next flush): " + e.getMessage());
        }
    }

    /** How many write-behind batches were written. */
    public long lastUsedFlushes() {
        return lastUsedFlushes.get();
    }

    private static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
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

    /**
     * A database answer: {@code version > 0} only when it was activated under that version (then it is
     * the bucket's snapshot and may be cached); otherwise generation {@code ""} and version 0, an answer
     * for the callers that waited for it only (decision V1).
     *
     * @param retireMark the near cache's retire mark of the bucket taken before the version was
     *     allocated, or -1 without a near cache
     */
    private record Loaded(List<AccountCard> cards, String generation, long version, long retireMark) {
        static Loaded unpublished(List<AccountCard> cards) {
            return new Loaded(cards, "", 0, -1);
        }
    }

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
            NearCache nc = nearCache;
            long retireMark = nc == null ? -1 : nc.retireMark(bucket);
            // The ticket comes first: a result read after it can only lose to a newer allocation.
            VersionTicket ticket = null;
            try {
                ticket = projection.allocateVersion(bucket).orElse(null);
            } catch (ProjectionException e) {
                LOG.log(Level.DEBUG, "no version for fallback of " + bucket + ": " + e.getMessage());
            }
            List<AccountCard> cards = engine.load(bucket);
            String generation = engine.generationId();
            PublishOutcome outcome = null;
            if (ticket != null) {
                try {
                    outcome = projection.publish(ticket, generation, cards);
                } catch (ProjectionException e) {
                    LOG.log(Level.DEBUG, "publishing fallback of " + bucket + " failed: " + e.getMessage());
                }
            }
            // Only an activated read is the bucket's snapshot. Superseded, retired or fenced (the bucket was
            // retired while this read ran), or not known to be written: the callers get what was read, and
            // nothing is cached as if the projection held it (decision V1).
            Loaded result = outcome == PublishOutcome.ACTIVATED && ticket != null
                    ? new Loaded(cards, generation, ticket.version(), retireMark)
                    : Loaded.unpublished(cards);
            // Leave the single-flight map before completing: a caller arriving after the answer must
            // start (and be limited as) a query of its own, not pick up a finished one.
            inflight.remove(bucket, f);
            f.complete(result);
        } catch (Throwable t) {
            inflight.remove(bucket, f);
            f.completeExceptionally(t);
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

    /**
     * Compares what every instance's near cache serves (their published {@link ServingDigest}s, this
     * instance's refreshed first) with what the projection holds; see {@link ServingAuditor}.
     *
     * @throws ProjectionException when the projection cannot be read
     */
    public ServingReport servingAudit() {
        try {
            publishServing();
        } catch (ProjectionException e) {
            // The others' digests are read below, and fail the audit the same way if Redis is down.
            LOG.log(Level.DEBUG, "serving digest not refreshed before the audit: " + e.getMessage());
        }
        return new ServingAuditor(projection).audit();
    }

    /** This instance's random id in the serving digests (drawn at construction; names nothing else). */
    public String instanceId() {
        return instanceId;
    }

    /**
     * What this instance's near cache serves now: per bucket (generation, version, content checksum).
     * Empty buckets when the near cache is off (the instance then serves the projection itself).
     */
    public ServingDigest servingDigest() {
        Map<Bucket, ServingDigest.Served> out = new java.util.HashMap<>();
        NearCache nc = nearCache;
        synchronized (checksums) {
            if (nc == null) {
                checksums.clear();
                return new ServingDigest(instanceId, engine.generationId(), clock.instant(), out);
            }
            nc.servedEntries().forEach((b, e) -> {
                Snapshot snap = e.snapshot();
                ChecksumMemo m = checksums.get(b);
                if (m == null || m.snapshot() != snap) {
                    // Computed once per installed snapshot, not once per publish.
                    m = new ChecksumMemo(snap, ServingDigest.checksum(snap.cards()));
                    checksums.put(b, m);
                }
                out.put(b, new ServingDigest.Served(snap.generation(), snap.version(), m.checksum()));
            });
            checksums.keySet().retainAll(out.keySet());
        }
        return new ServingDigest(instanceId, engine.generationId(), clock.instant(), out);
    }

    /**
     * Publishes {@link #servingDigest()} with a TTL of {@link #SERVING_TTL}; the service does so every
     * {@link #SERVING_INTERVAL} while started.
     *
     * @throws ProjectionException when the projection cannot be written
     */
    public void publishServing() {
        projection.putServing(servingDigest(), SERVING_TTL);
    }

    private void publishServingQuietly() {
        try {
            publishServing();
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, "serving digest not published: " + e.getMessage());
        }
    }

    private record ChecksumMemo(Snapshot snapshot, String checksum) {}

    /** The instant of the injected clock (for callers that judge cards themselves). */
    public Instant now() {
        return clock.instant();
    }

    // ---- lifecycle ----------------------------------------------------------------------------

    /**
     * Stops every thread this service started (waiting for running work to end), writes the queued
     * last-used values, then releases the replayer lease so another instance takes over at once. The
     * projection and source are not closed (the caller owns them). Idempotent.
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
        if (servingTimer != null) {
            servingTimer.shutdownNow();
            awaitTermination(servingTimer);
        }
        NearCache nc = nearCache;
        if (nc != null) {
            nc.close();
        }
        if (flushTimer != null) {
            flushTimer.shutdownNow();
            awaitTermination(flushTimer);
        }
        flushLastUsedQuietly();
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

    private static String newInstanceId() {
        byte[] b = new byte[8];
        new java.security.SecureRandom().nextBytes(b);
        return java.util.HexFormat.of().formatHex(b);
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
        private LastUsedWriter lastUsedWriter;
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

        /** Where last-used times are written behind in batches (the accounts table); none by default. */
        public Builder lastUsedWriter(LastUsedWriter v) {
            this.lastUsedWriter = Objects.requireNonNull(v, "lastUsedWriter");
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
