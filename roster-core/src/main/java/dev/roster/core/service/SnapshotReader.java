package dev.roster.core.service;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.Platforms;
import dev.roster.core.RunMode;
import dev.roster.core.TimeFilter;
import dev.roster.core.internal.CurrentGeneration;
import dev.roster.core.internal.Universe;
import dev.roster.core.nearcache.NearCache;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ProjectionException;
import dev.roster.core.projection.Snapshot;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hot path: a request's bucket and an account's card, from the near cache, else the projection,
 * else the {@link DatabaseFallback}.
 *
 * <p>Contract. {@link #list} resolves the mode (forced when the route pins the platform, mixed for
 * anthropic and gemini, single otherwise) and the group (0 in simple run mode or when absent), and
 * applies the time filter at the injected clock's instant to whatever it serves. An empty snapshot is
 * a valid answer. With a near cache, a warm entry is answered from memory (no lock, no I/O, and no
 * allocation: {@link ServedAnswers} returns the result built before for the same snapshot and time
 * window); per
 * bucket, no answer ever has an older (generation, version) than one this instance already served.
 * Without one (a service that is not started) the projection is read on every call. Only snapshots of
 * a generation the {@link CurrentGeneration} serves are answered.
 *
 * <p>Thread-safe.
 */
final class SnapshotReader {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotReader.class);

    private final Projection projection;
    private final RunMode runMode;
    private final InstantSource clock;
    private final CurrentGeneration generation;
    private final Supplier<NearCache> nearCache;
    private final DatabaseFallback fallback;
    private final ServedAnswers answers;

    /**
     * @param answersCapacity how many buckets the hit path's memo of built answers keeps ({@code
     *     near_cache.max_buckets})
     * @param nearCache the service's near cache, or {@code null} from the supplier while there is none */
    SnapshotReader(
            Projection projection,
            RunMode runMode,
            InstantSource clock,
            CurrentGeneration generation,
            Supplier<NearCache> nearCache,
            DatabaseFallback fallback,
            int answersCapacity) {
        this.projection = Objects.requireNonNull(projection, "projection");
        this.runMode = Objects.requireNonNull(runMode, "runMode");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.generation = Objects.requireNonNull(generation, "generation");
        this.nearCache = Objects.requireNonNull(nearCache, "nearCache");
        this.fallback = Objects.requireNonNull(fallback, "fallback");
        this.answers = new ServedAnswers(clock, answersCapacity);
    }

    /** See {@link SnapshotService#list(Long, String, boolean, Duration)}. */
    ListResult list(@Nullable Long groupId, String platform, boolean forcePlatform, @Nullable Duration budget) {
        NearCache nc = nearCache.get();
        long group = Universe.normalizeGroup(groupId, runMode);
        if (nc != null && platform != null) {
            // A bucket seen before was validated then: its slot holds the key, and a hit reuses the answer.
            ServedAnswers.Slot slot = answers.find(group, platform, Mode.resolve(platform, forcePlatform));
            if (slot != null) {
                NearCache.Entry e = nc.get(slot.bucket);
                return e != null
                        ? answers.answer(slot, e.snapshot())
                        : loadNear(nc, slot.bucket, slot.useMixed, budget);
            }
        }
        Platforms.require(platform);
        Mode mode = Mode.resolve(platform, forcePlatform);
        boolean useMixed = mode == Mode.MIXED;
        Bucket bucket = new Bucket(group, platform, mode);
        if (nc != null) {
            NearCache.Entry e = nc.get(bucket);
            if (e == null) {
                return loadNear(nc, bucket, useMixed, budget);
            }
            ServedAnswers.Slot slot = answers.remember(bucket, useMixed);
            return slot != null
                    ? answers.answer(slot, e.snapshot())
                    : served(bucket, e.snapshot(), useMixed, ListResult.Source.NEAR_CACHE);
        }
        try {
            Lookup<Snapshot> l = projection.readSnapshot(bucket);
            // The projection was read anyway: a snapshot of a generation another instance built is
            // adopted here (one more read, once per new generation).
            if (l instanceof Lookup.Hit<Snapshot> hit
                    && generation.adoptIfStored(hit.found().generation())) {
                return served(bucket, hit.found(), useMixed, ListResult.Source.PROJECTION);
            }
        } catch (ProjectionException e) {
            LOG.debug("snapshot read failed for {}: {}", bucket, e.getMessage());
        }
        return fromDatabase(bucket, fallback.bucket(bucket, budget), useMixed);
    }

    /** A near-cache miss: the projection through the cache's single-flight load, else the database. */
    private ListResult loadNear(NearCache nc, Bucket bucket, boolean useMixed, @Nullable Duration budget) {
        try {
            NearCache.Entry e = nc.load(bucket);
            if (e != null) {
                return served(bucket, e.snapshot(), useMixed, ListResult.Source.PROJECTION);
            }
        } catch (ProjectionException ex) {
            LOG.debug("snapshot read failed for {}: {}", bucket, ex.getMessage());
        }
        DatabaseFallback.Loaded loaded = fallback.bucket(bucket, budget);
        if (loaded.version() > 0) {
            // Activated under this version: cache it, unless this instance already served newer or the
            // bucket was retired since the read began.
            NearCache.Entry o = nc.offer(
                    new Snapshot(bucket, loaded.generation(), loaded.version(), loaded.cards()), loaded.retireMark());
            if (o != null) {
                boolean mine = o.snapshot().version() == loaded.version()
                        && o.snapshot().generation().equals(loaded.generation());
                return served(
                        bucket,
                        o.snapshot(),
                        useMixed,
                        mine ? ListResult.Source.DATABASE : ListResult.Source.NEAR_CACHE);
            }
        }
        return fromDatabase(bucket, loaded, useMixed);
    }

    private ListResult served(Bucket bucket, Snapshot s, boolean useMixed, ListResult.Source source) {
        return filtered(bucket, s.cards(), useMixed, s.generation(), s.version(), source);
    }

    private ListResult fromDatabase(Bucket bucket, DatabaseFallback.Loaded loaded, boolean useMixed) {
        return filtered(
                bucket, loaded.cards(), useMixed, loaded.generation(), loaded.version(), ListResult.Source.DATABASE);
    }

    private ListResult filtered(
            Bucket bucket,
            List<AccountCard> durable,
            boolean useMixed,
            String generation,
            long version,
            ListResult.Source source) {
        Instant now = clock.instant();
        TimeFilter.Window w = TimeFilter.window(durable, now);
        return new ListResult(
                bucket, TimeFilter.apply(durable, now), useMixed, generation, version, source, w.from(), w.until());
    }

    /** See {@link SnapshotService#getAccount(long, Duration)}. */
    Optional<AccountCard> account(long accountId, @Nullable Duration budget) {
        if (accountId <= 0) {
            return Optional.empty();
        }
        try {
            Optional<AccountCard> c = projection.card(accountId).value();
            if (c.isPresent()) {
                return c;
            }
        } catch (ProjectionException e) {
            LOG.debug("card read failed for account {}: {}", accountId, e.getMessage());
        }
        return fallback.account(accountId, budget);
    }
}
