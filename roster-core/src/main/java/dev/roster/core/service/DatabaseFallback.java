package dev.roster.core.service;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.internal.CurrentGeneration;
import dev.roster.core.internal.Engine;
import dev.roster.core.internal.FallbackLimiter;
import dev.roster.core.nearcache.NearCache;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ProjectionException;
import dev.roster.core.projection.PublishOutcome;
import dev.roster.core.projection.VersionTicket;
import dev.roster.core.source.SchedulingSource;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guarded database path behind the projection: what the hot path answers when the projection has
 * no acceptable snapshot or fails.
 *
 * <p>Contract. A query is refused with {@link CacheNotReadyException} when {@code db_fallback_enabled}
 * is off and with {@link FallbackLimitedException} past {@code db_fallback_max_qps} queries in a second;
 * the wait is bounded by {@code db_fallback_timeout_seconds} and the caller's budget ({@link
 * FallbackTimeoutException}); a failed query gives {@link StoreUnavailableException}. Concurrent misses
 * of one bucket share one query (single flight), and a caller arriving after the answer starts a query
 * of its own. A bucket's answer is published under a version allocated <em>before</em> the read, so it
 * never replaces newer data; only an activated answer is reported as the bucket's snapshot.
 *
 * <p>Thread-safe. Queries run on the fallback pool the service's {@link ServiceThreads} owns.
 */
final class DatabaseFallback {
    private static final Logger LOG = LoggerFactory.getLogger(DatabaseFallback.class);

    private final SchedulingSource source;
    private final Projection projection;
    private final SchedulingConfig scheduling;
    private final Engine engine;
    private final CurrentGeneration generation;
    private final Supplier<NearCache> nearCache;
    private final ExecutorService pool;
    private final FallbackLimiter limiter;
    private final Map<Bucket, CompletableFuture<Loaded>> inflight = new HashMap<>();
    private final AtomicLong queries = new AtomicLong();

    /**
     * @param nearCache the service's near cache, or {@code null} from the supplier while there is none
     *     (its retire mark keeps a retired bucket's read out of it)
     */
    DatabaseFallback(
            SchedulingSource source,
            Projection projection,
            SchedulingConfig scheduling,
            InstantSource clock,
            Engine engine,
            CurrentGeneration generation,
            Supplier<NearCache> nearCache,
            ExecutorService pool) {
        this.source = Objects.requireNonNull(source, "source");
        this.projection = Objects.requireNonNull(projection, "projection");
        this.scheduling = Objects.requireNonNull(scheduling, "scheduling");
        this.engine = Objects.requireNonNull(engine, "engine");
        this.generation = Objects.requireNonNull(generation, "generation");
        this.nearCache = Objects.requireNonNull(nearCache, "nearCache");
        this.pool = Objects.requireNonNull(pool, "pool");
        this.limiter = new FallbackLimiter(scheduling.dbFallbackMaxQps(), clock);
    }

    /**
     * A database answer: {@code version > 0} only when it was activated under that version (then it is
     * the bucket's snapshot and may be cached); otherwise generation {@code ""} and version 0, an answer
     * for the callers that waited for it only (decision V1).
     *
     * @param retireMark the near cache's retire mark of the bucket taken before the version was
     *     allocated, or -1 without a near cache
     */
    record Loaded(List<AccountCard> cards, String generation, long version, long retireMark) {
        static Loaded unpublished(List<AccountCard> cards) {
            return new Loaded(cards, "", 0, -1);
        }
    }

    /** How many database queries this path ran. */
    long queries() {
        return queries.get();
    }

    /**
     * The bucket read from the database, shared with every concurrent caller for the same bucket.
     *
     * @param budget how long the caller can wait, or {@code null} for no limit of its own
     */
    Loaded bucket(Bucket bucket, @Nullable Duration budget) {
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
            queries.incrementAndGet();
            try {
                pool.execute(() -> run(bucket, leader));
            } catch (RuntimeException e) {
                leave(bucket, leader);
                leader.completeExceptionally(e);
            }
        }
        return await(f, what, budget);
    }

    /** One account's card read from the database (no single flight: a card read is one row). */
    Optional<AccountCard> account(long accountId, @Nullable Duration budget) {
        String what = "account " + accountId;
        guard(what);
        queries.incrementAndGet();
        CompletableFuture<Optional<AccountCard>> f = CompletableFuture.supplyAsync(
                () -> Optional.ofNullable(source.loadCards(List.of(accountId)).get(accountId)), pool);
        return await(f, what, budget);
    }

    private void guard(String what) {
        if (!scheduling.dbFallbackEnabled()) {
            throw new CacheNotReadyException(what);
        }
        if (!limiter.tryAcquire()) {
            throw new FallbackLimitedException(what, scheduling.dbFallbackMaxQps());
        }
    }

    private void leave(Bucket bucket, CompletableFuture<Loaded> f) {
        synchronized (inflight) {
            inflight.remove(bucket, f);
        }
    }

    private void run(Bucket bucket, CompletableFuture<Loaded> f) {
        try {
            NearCache nc = nearCache.get();
            long retireMark = nc == null ? -1 : nc.retireMark(bucket);
            // The ticket comes first: a result read after it can only lose to a newer allocation.
            VersionTicket ticket = null;
            try {
                ticket = projection.allocateVersion(bucket).orElse(null);
            } catch (ProjectionException e) {
                LOG.debug("no version for fallback of {}: {}", bucket, e.getMessage());
            }
            List<AccountCard> cards = engine.load(bucket);
            String publishedUnder = generation.id();
            PublishOutcome outcome = null;
            if (ticket != null) {
                try {
                    outcome = projection.publish(ticket, publishedUnder, cards);
                } catch (ProjectionException e) {
                    LOG.debug("publishing fallback of {} failed: {}", bucket, e.getMessage());
                }
            }
            // Only an activated read is the bucket's snapshot. Superseded, retired or fenced (the bucket was
            // retired while this read ran), or not known to be written: the callers get what was read, and
            // nothing is cached as if the projection held it (decision V1).
            Loaded result = outcome == PublishOutcome.ACTIVATED && ticket != null
                    ? new Loaded(cards, publishedUnder, ticket.version(), retireMark)
                    : Loaded.unpublished(cards);
            // Leave the single-flight map before completing: a caller arriving after the answer must
            // start (and be limited as) a query of its own, not pick up a finished one.
            leave(bucket, f);
            f.complete(result);
        } catch (Throwable t) {
            leave(bucket, f);
            f.completeExceptionally(t);
        }
    }

    private <T> T await(CompletableFuture<T> f, String what, @Nullable Duration budget) {
        Duration limit = null;
        int seconds = scheduling.dbFallbackTimeoutSeconds();
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
            // An ExecutionException always carries the failure that ended the task.
            Throwable c = Objects.requireNonNull(e.getCause(), "cause");
            if (c instanceof SchedulerException se) {
                throw se;
            }
            throw new StoreUnavailableException(what, c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FallbackTimeoutException(what, limit == null ? Duration.ZERO : limit);
        }
    }
}
