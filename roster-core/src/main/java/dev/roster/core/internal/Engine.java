package dev.roster.core.internal;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.RunMode;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ProjectionUnavailableException;
import dev.roster.core.projection.PublishOutcome;
import dev.roster.core.projection.VersionTicket;
import dev.roster.core.source.SchedulingSource;
import dev.roster.core.source.SourceException;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * The bucket-rebuild step shared by the replayer, the full rebuild and the admin action: reads a
 * bucket from the source and publishes it under the {@link CurrentGeneration}'s id.
 *
 * <p>Implementation notes. A rebuild allocates the bucket's version <em>before</em> reading the
 * database and publishes with a compare-and-set on the version (docs/architecture.md, "Redis: the projection"), so any
 * number of concurrent rebuilders of one bucket are safe: the newest allocation wins, and its read started
 * after every commit that happened before it was allocated. That is why there is no per-bucket
 * rebuild lock at all, and so no "lock busy, skip" path (the seed's W3, docs/upstream.md): a rebuild is either
 * published, superseded by a newer allocation (whose read is at least as fresh), or fenced by a
 * retire. Retire and reopen decisions, and the replay of a batch versus a full rebuild, are
 * serialised by {@link #applyLock}, so a full rebuild working from an older group state can never
 * undo a retire or reopen the replayer applied from a newer one.
 */
public final class Engine {

    private final SchedulingSource source;
    private final Projection projection;
    private final ServiceConfig config;
    private final InstantSource clock;
    private final String fingerprint;
    private final ExecutorService bucketPool;
    private final ReentrantLock applyLock = new ReentrantLock(true);

    private final CurrentGeneration generation;

    public Engine(
            SchedulingSource source,
            Projection projection,
            ServiceConfig config,
            InstantSource clock,
            CurrentGeneration generation,
            ExecutorService bucketPool) {
        this.source = Objects.requireNonNull(source, "source");
        this.projection = Objects.requireNonNull(projection, "projection");
        this.config = Objects.requireNonNull(config, "config");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.bucketPool = Objects.requireNonNull(bucketPool, "bucketPool");
        this.generation = Objects.requireNonNull(generation, "generation");
        this.fingerprint = fingerprintOf(config);
    }

    /** The fingerprint of the settings that shape snapshots (run mode, group-0 scope, format). */
    public static String fingerprintOf(ServiceConfig config) {
        return Generation.fingerprintOf(
                "roster-snapshot-v3",
                "run_mode=" + config.runMode().name(),
                "group0=" + config.effectiveGroup0Scope().name());
    }

    public SchedulingSource source() {
        return source;
    }

    public Projection projection() {
        return projection;
    }

    public ServiceConfig config() {
        return config;
    }

    public InstantSource clock() {
        return clock;
    }

    public String fingerprint() {
        return fingerprint;
    }

    public ReentrantLock applyLock() {
        return applyLock;
    }

    /** The durable part of Q for {@code bucket} under this configuration. */
    public List<AccountCard> load(Bucket bucket) {
        return source.loadBucket(bucket, config.runMode(), config.effectiveGroup0Scope());
    }

    /** Whether buckets of group {@code g} are retired when the group is not active (standard mode, g &gt; 0). */
    public boolean lifecycleApplies(long g) {
        return g > 0 && config.runMode() == RunMode.STANDARD;
    }

    /** What one bucket rebuild did. */
    public enum Outcome {
        /** The new snapshot is active. */
        PUBLISHED,
        /** A newer allocation won; its read is at least as fresh, so the bucket is up to date. */
        SUPERSEDED,
        /** The bucket's group is not active: the bucket is retired (and empty). */
        RETIRED
    }

    /**
     * The result of one bucket rebuild.
     *
     * @param outcome what happened, or {@code null} on failure
     * @param cards the cards read (empty when retired or failed)
     * @param error the failure, or {@code null}
     */
    public record Result(
            @Nullable Outcome outcome,
            List<AccountCard> cards,
            @Nullable Throwable error) {
        public boolean ok() {
            return error == null;
        }
    }

    /**
     * Rebuilds one bucket. With {@code activeGroups} known, a bucket of a group that is not active
     * is retired, and a retired bucket of an active group is reopened first.
     *
     * @param activeGroups ids of active groups, read before this call under {@link #applyLock}
     */
    public @Nullable Outcome rebuild(Bucket bucket, Set<Long> activeGroups) {
        return rebuildLoaded(bucket, activeGroups).outcome();
    }

    private Result rebuildLoaded(Bucket bucket, Set<Long> activeGroups) {
        // rebuildShared answers for every bucket it is given.
        return Objects.requireNonNull(
                rebuildShared(List.of(bucket), activeGroups).get(bucket), "result");
    }

    /**
     * Rebuilds buckets whose bucket query is the same (the single and forced buckets of one group and
     * platform) from ONE database read: every bucket's version is allocated first, so the shared read
     * still starts after each allocation, then each publishes the same cards under its own ticket.
     */
    private Map<Bucket, Result> rebuildShared(List<Bucket> same, Set<Long> activeGroups) {
        Map<Bucket, Result> out = new LinkedHashMap<>();
        Map<Bucket, VersionTicket> tickets = new LinkedHashMap<>();
        for (Bucket bucket : same) {
            if (lifecycleApplies(bucket.groupId()) && !activeGroups.contains(bucket.groupId())) {
                projection.retire(bucket);
                out.put(bucket, new Result(Outcome.RETIRED, List.of(), null));
                continue;
            }
            Optional<VersionTicket> ticket = projection.allocateVersion(bucket);
            if (ticket.isEmpty()) {
                // Retired earlier, and its group is active now (or lifecycle does not apply).
                projection.reopen(bucket);
                ticket = projection.allocateVersion(bucket);
                if (ticket.isEmpty()) {
                    throw new IllegalStateException("bucket " + bucket + " was retired again while reopening it");
                }
            }
            tickets.put(bucket, ticket.get());
        }
        if (tickets.isEmpty()) {
            return out;
        }
        List<AccountCard> cards = load(tickets.keySet().iterator().next());
        for (Map.Entry<Bucket, VersionTicket> e : tickets.entrySet()) {
            Bucket bucket = e.getKey();
            PublishOutcome o = projection.publish(e.getValue(), generation.id(), cards);
            out.put(
                    bucket,
                    switch (o) {
                        case ACTIVATED -> new Result(Outcome.PUBLISHED, cards, null);
                        case SUPERSEDED -> new Result(Outcome.SUPERSEDED, cards, null);
                        // Fenced without being retired: reopened since, or the store lost its data (a
                        // flush) and counts afresh; either way newer state than this read rules.
                        case FENCED -> new Result(Outcome.SUPERSEDED, cards, null);
                        case RETIRED ->
                            throw new IllegalStateException(
                                    "bucket " + bucket + " was retired while it was being rebuilt (" + o + ")");
                    });
        }
        return out;
    }

    /**
     * Rebuilds {@code buckets} with bounded parallelism ({@code replay.rebuild_parallelism}), each
     * once; the single and forced buckets of one (group, platform) share one database read (their
     * query is the same). Never throws for a bucket's failure: the map holds every bucket's result.
     */
    public Map<Bucket, Result> rebuildAll(Collection<Bucket> buckets, Set<Long> activeGroups) {
        Map<String, List<Bucket>> sharing = new LinkedHashMap<>();
        for (Bucket b : buckets) {
            String key = b.groupId() + ":" + b.platform() + ":" + (b.mode() == Mode.MIXED ? "mixed" : "plain");
            sharing.computeIfAbsent(key, k -> new ArrayList<>()).add(b);
        }
        List<List<Bucket>> units = List.copyOf(sharing.values());
        List<Callable<Map<Bucket, Result>>> tasks = new ArrayList<>(units.size());
        for (List<Bucket> unit : units) {
            tasks.add(() -> {
                try {
                    return rebuildShared(unit, activeGroups);
                } catch (RuntimeException e) {
                    Map<Bucket, Result> failed = new LinkedHashMap<>();
                    for (Bucket b : unit) {
                        failed.put(b, new Result(null, List.of(), e));
                    }
                    return failed;
                }
            });
        }
        Map<Bucket, Result> out = new LinkedHashMap<>();
        if (tasks.size() == 1) {
            try {
                out.putAll(tasks.getFirst().call());
            } catch (Exception e) {
                for (Bucket b : units.getFirst()) {
                    out.put(b, new Result(null, List.of(), e));
                }
            }
            return out;
        }
        List<Future<Map<Bucket, Result>>> futures;
        try {
            futures = bucketPool.invokeAll(tasks);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while rebuilding buckets", e);
        }
        for (int i = 0; i < units.size(); i++) {
            try {
                out.putAll(futures.get(i).get());
            } catch (ExecutionException e) {
                for (Bucket b : units.get(i)) {
                    out.put(b, new Result(null, List.of(), e.getCause()));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while rebuilding buckets", e);
            }
        }
        return out;
    }

    /**
     * Whether {@code e} says a store is unreachable (the operation may succeed later unchanged),
     * rather than something wrong with the work itself.
     */
    public static boolean isInfrastructure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SourceException || t instanceof ProjectionUnavailableException) {
                return true;
            }
        }
        return false;
    }
}
