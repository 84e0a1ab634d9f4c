package dev.roster.core.service;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.audit.AuditReport;
import dev.roster.core.audit.Auditor;
import dev.roster.core.audit.ServingAuditor;
import dev.roster.core.audit.ServingReport;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.internal.Engine;
import dev.roster.core.nearcache.NearCache;
import dev.roster.core.outbox.CursorState;
import dev.roster.core.outbox.OutboxStats;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ProjectionException;
import dev.roster.core.projection.ServingDigest;
import dev.roster.core.replay.DeadLetterSink;
import dev.roster.core.replay.FullRebuilder;
import dev.roster.core.replay.Replayer;
import dev.roster.core.source.GroupInfo;
import dev.roster.core.source.SchedulingSource;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler snapshot service: sub2api's {@code SchedulerSnapshotService} re-implemented over a
 * {@link SchedulingSource} (the source of truth) and a {@link Projection} (the shared snapshots).
 *
 * <p>This class is the facade; each part is one class of this package:
 *
 * <ul>
 *   <li>{@link ServiceAssembly} builds and wires the parts (the composition root);
 *   <li>{@link SnapshotReader} is the hot path ({@link #list}, {@link #getAccount}): near cache, then
 *       projection, then database;
 *   <li>{@link DatabaseFallback} is the guarded database path (single flight per bucket, QPS limit,
 *       timeouts; a result published under a version allocated before the read);
 *   <li>{@link LastUsedWriteBehind} keeps last-used times ({@link #markUsed}, {@link #lastUsed}) and
 *       writes them behind in batches ({@link #flushLastUsed});
 *   <li>{@link ServingDigestPublisher} publishes what this instance serves, for the serving audit;
 *   <li>{@link ServiceThreads} owns every thread and executor, their start and their shutdown order.
 * </ul>
 *
 * <p><b>Background work</b> (after {@link #start()}): the replay thread, the full-rebuild thread, the
 * bucket-rebuild pool, the lease timer, the near cache (with {@code near_cache.enabled}), the
 * serving-digest and last-used flush timers. {@link #close()} stops all of them and releases the lease.
 * Without {@link #start()} nothing runs in the background, there is no near cache, and tests drive
 * {@link #replayer()} step by step.
 *
 * <p>Thread-safe.
 */
public final class SnapshotService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotService.class);

    /** How often a started service publishes its serving digest. */
    public static final Duration SERVING_INTERVAL = ServingDigestPublisher.INTERVAL;

    /** How long a published serving digest lives: three intervals, so one lost publish is no gap. */
    public static final Duration SERVING_TTL = ServingDigestPublisher.TTL;

    private final ServiceAssembly parts;

    private SnapshotService(Builder b) {
        this.parts = new ServiceAssembly(
                Objects.requireNonNull(b.source, "source"),
                Objects.requireNonNull(b.projection, "projection"),
                b.config,
                b.clock,
                b.deadLetters,
                b.lastUsedWriter,
                b.inlineRebuilds);
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
        parts.threads.start(parts.work(), parts.timing());
        return this;
    }

    /** Wakes the replay thread (call it on the database's outbox notification). Never blocks. */
    public void wake() {
        parts.threads.wake();
    }

    /** Whether the projection was found current or fully rebuilt since start. */
    public boolean ready() {
        return parts.generation.ready();
    }

    /** The replayer, for step-driven tests and operators' tools. */
    public Replayer replayer() {
        return parts.replayer;
    }

    /** The full rebuilder (coalesced), for step-driven tests and the admin endpoint. */
    public FullRebuilder rebuilder() {
        return parts.rebuilder;
    }

    /** Requests a full rebuild (coalesced); the future completes when a run that started after it ends. */
    public CompletableFuture<Void> requestFullRebuild(String reason) {
        return parts.rebuilder.request(reason);
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
        Engine engine = parts.engine;
        engine.applyLock().lock();
        try {
            Set<Long> active = new HashSet<>();
            for (GroupInfo g : parts.source.activeGroups()) {
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
    public OutboxStats outboxStats() {
        Optional<CursorState> own = parts.replayer.cursorState();
        if (own.isPresent()) {
            return own.get().stats(parts.source.outbox());
        }
        Optional<CursorState> holder = parts.projection.replayCursor().value();
        if (holder.isPresent()) {
            return holder.get().stats(parts.source.outbox());
        }
        return parts.source.outbox().stats(parts.projection.watermark().value().orElse(0L), Set.of());
    }

    /** Whether this instance currently holds the replayer lease. */
    public boolean isReplayer() {
        return parts.leases.held().isPresent();
    }

    /** How many database fallback queries this instance ran. */
    public long fallbackQueries() {
        return parts.fallback.queries();
    }

    /** The near cache, or empty when the service is not started or the cache is disabled. */
    public Optional<NearCache> nearCache() {
        return Optional.ofNullable(parts.threads.nearCache());
    }

    /** The generation id this instance publishes under and serves. */
    public String generation() {
        return parts.generation.id();
    }

    // ---- hot path -----------------------------------------------------------------------------

    /** {@link #list(Long, String, boolean, Duration)} without a caller deadline. */
    public ListResult list(@Nullable Long groupId, String platform, boolean forcePlatform) {
        return list(groupId, platform, forcePlatform, null);
    }

    /**
     * The schedulable accounts of the request's bucket at this instant, in the bucket query's order;
     * see {@link SnapshotReader} for where the answer comes from and {@link DatabaseFallback} for the
     * guards of the database path.
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
    public ListResult list(@Nullable Long groupId, String platform, boolean forcePlatform, @Nullable Duration budget) {
        return parts.reader.list(groupId, platform, forcePlatform, budget);
    }

    /** {@link #getAccount(long, Duration)} without a caller deadline. */
    public Optional<AccountCard> getAccount(long accountId) {
        return getAccount(accountId, null);
    }

    /**
     * The card of an account (whatever its schedulability), from the projection or, on a miss, from
     * the database under the same guards as {@link #list}. Empty for ids &le; 0 and absent accounts.
     */
    public Optional<AccountCard> getAccount(long accountId, @Nullable Duration budget) {
        return parts.reader.account(accountId, budget);
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
        parts.lastUsed.markUsed(accountId, at);
    }

    /**
     * The last-used times of {@code accountIds} that have one: the projection's values merged with
     * this instance's local view (the later wins); only the local view when the projection fails.
     */
    public Map<Long, Instant> lastUsed(Collection<Long> accountIds) {
        return parts.lastUsed.lastUsed(accountIds);
    }

    /**
     * Writes every queued last-used value now, in one call of the {@link LastUsedWriter}. Values that
     * fail stay queued. Returns how many accounts were written (0 without a writer).
     */
    public int flushLastUsed() {
        return parts.lastUsed.flush();
    }

    /** How many write-behind batches were written. */
    public long lastUsedFlushes() {
        return parts.lastUsed.flushes();
    }

    // ---- audit --------------------------------------------------------------------------------

    /** Audits the projection against the source; see {@link Auditor}. */
    public AuditReport audit() {
        return new Auditor(parts.source, parts.projection, parts.config, parts.generation::id).audit();
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
            LOG.debug("serving digest not refreshed before the audit: {}", e.getMessage());
        }
        return new ServingAuditor(parts.projection).audit();
    }

    /** This instance's random id in the serving digests (drawn at construction; names nothing else). */
    public String instanceId() {
        return parts.serving.instanceId();
    }

    /**
     * What this instance's near cache serves now: per bucket (generation, version, content checksum).
     * Empty buckets when the near cache is off (the instance then serves the projection itself).
     */
    public ServingDigest servingDigest() {
        return parts.serving.digest();
    }

    /**
     * Publishes {@link #servingDigest()} with a TTL of {@link #SERVING_TTL}; the service does so every
     * {@link #SERVING_INTERVAL} while started.
     *
     * @throws ProjectionException when the projection cannot be written
     */
    public void publishServing() {
        parts.serving.publish();
    }

    /** The instant of the injected clock (for callers that judge cards themselves). */
    public Instant now() {
        return parts.clock.instant();
    }

    // ---- lifecycle ----------------------------------------------------------------------------

    /**
     * Stops every thread this service started (waiting for running work to end), writes the queued
     * last-used values, then releases the replayer lease so another instance takes over at once. The
     * projection and source are not closed (the caller owns them). Idempotent.
     */
    @Override
    public void close() {
        parts.threads.close(parts.lastUsed::flushQuietly, parts.leases::release);
    }

    /**
     * Builds a {@link SnapshotService}. Required: {@link #source}, {@link #projection}. Defaults: {@link
     * ServiceConfig#DEFAULTS}, the system clock, dead letters only logged, rebuilds on their own thread.
     */
    public static final class Builder {
        private @Nullable SchedulingSource source;
        private @Nullable Projection projection;
        private ServiceConfig config = ServiceConfig.DEFAULTS;
        private InstantSource clock = InstantSource.system();
        private @Nullable DeadLetterSink deadLetters;
        private @Nullable LastUsedWriter lastUsedWriter;
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
