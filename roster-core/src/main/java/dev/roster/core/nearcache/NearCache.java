package dev.roster.core.nearcache;

import dev.roster.core.Bucket;
import dev.roster.core.config.NearCacheConfig;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.Invalidation;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ProjectionException;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.projection.Subscription;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The in-process copy of bucket snapshots that answers the hot path without I/O.
 *
 * <p><b>Contract.</b> {@link #get} is one map lookup plus one volatile read of an immutable {@link
 * Entry}; it takes no lock, does no I/O and allocates nothing. An entry is served while it was
 * confirmed against the projection within {@code near_cache.max_stale} (application clock); a
 * confirmation is a load, an invalidation followed by a read, or the periodic version check. While
 * the projection is healthy the check confirms every entry each {@code check_interval}, so entries
 * never age out; when it fails (Redis down) entries age and, past {@code max_stale}, {@link #get}
 * returns {@code null} and the caller goes to the projection and then to the guarded database path.
 *
 * <p><b>Never older.</b> Per bucket the cache keeps the highest (generation, version) it ever
 * installed, and never installs anything lower, so a reader of this instance never sees a bucket go
 * back. Generations are random ids; their order is the order in which this instance accepted them
 * (the service only ever moves to a newer generation), kept as an ordinal.
 *
 * <p><b>Refresh.</b> {@link #start()} subscribes to the projection's invalidations (the listener only
 * queues the bucket: it runs on the client's I/O thread), starts one refresh thread that re-reads
 * queued buckets, and one check thread that re-reads every cached bucket each {@code
 * check_interval} (healing lost messages; a failed subscription is retried there). {@link #close()}
 * stops both and the subscription. Every re-read passes the held snapshot to {@link
 * Projection#refreshSnapshot}, so it costs bytes in proportion to what changed (nothing but a
 * confirmation when nothing did), not to the bucket.
 *
 * <p><b>Retire.</b> A retire notice drops the bucket's entry on the listener thread at once (the
 * bucket answers empty from then on, through the projection's miss and the database), and a read
 * that began before the notice is not installed after it, so a retired bucket's last content is
 * never served past its retire notice.
 *
 * <p>Thread-safe.
 */
public final class NearCache implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NearCache.class);

    private final Projection projection;
    private final GenerationGate generations;
    private final InstantSource clock;
    private final NearCacheConfig config;
    private final long maxStaleMillis;
    private final ConcurrentHashMap<Bucket, Slot> slots = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Long> generationOrdinals = new ConcurrentHashMap<>();
    private final AtomicLong nextOrdinal = new AtomicLong();
    private final LinkedBlockingQueue<Bucket> queue = new LinkedBlockingQueue<>();
    private final Set<Bucket> queued = ConcurrentHashMap.newKeySet();
    private final LongAdder hits = new LongAdder();
    private final LongAdder staleMisses = new LongAdder();
    private final LongAdder loads = new LongAdder();
    private final LongAdder refreshes = new LongAdder();
    private final LongAdder checks = new LongAdder();
    private final LongAdder healed = new LongAdder();
    private final LongAdder invalidations = new LongAdder();
    private final Object lifecycle = new Object();
    private final List<Consumer<Bucket>> changeListeners = new CopyOnWriteArrayList<>();
    private volatile @Nullable Subscription subscription;
    private @Nullable Thread refreshThread;
    private @Nullable ScheduledExecutorService checkTimer;
    private volatile boolean closed;

    /**
     * A cache over {@code projection}.
     *
     * @param generations which generations may be served; asked without I/O on every install, and
     *     allowed to read the stored generation only on the load, refresh and check paths
     * @param clock the application clock, for staleness
     */
    public NearCache(Projection projection, GenerationGate generations, InstantSource clock, NearCacheConfig config) {
        this.projection = Objects.requireNonNull(projection, "projection");
        this.generations = Objects.requireNonNull(generations, "generations");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.config = Objects.requireNonNull(config, "config");
        this.maxStaleMillis = config.maxStale().toMillis();
    }

    /**
     * A bucket's cached snapshot and when it was last confirmed current. Immutable.
     *
     * @param snapshot the snapshot (durable part; time filter applied by the reader)
     * @param ordinal this instance's order of the snapshot's generation
     * @param confirmedAtMillis application-clock millis of the last confirmation
     */
    public record Entry(Snapshot snapshot, long ordinal, long confirmedAtMillis) {
        boolean newerThan(long ord, long version) {
            return ordinal > ord || (ordinal == ord && snapshot.version() > version);
        }
    }

    private static final class Slot {
        volatile @Nullable Entry entry;
        // Highest (ordinal, version) ever installed; guarded by the slot's monitor.
        long highOrdinal = -1;
        long highVersion = -1;
        // Retire notices seen; written under the monitor. A read that began before a notice may hold
        // the retired snapshot, so it is installed only if no notice came in between.
        volatile long retires;

        @Nullable
        CompletableFuture<Entry> loading;
    }

    // ---- hot path ----------------------------------------------------------------------------

    /**
     * The bucket's entry if it is cached and was confirmed within {@code max_stale}, else {@code
     * null}. No lock, no I/O, no allocation.
     */
    public @Nullable Entry get(Bucket bucket) {
        Slot s = slots.get(bucket);
        if (s == null) {
            return null;
        }
        Entry e = s.entry;
        if (e == null) {
            return null;
        }
        if (clock.millis() - e.confirmedAtMillis > maxStaleMillis) {
            staleMisses.increment();
            return null;
        }
        hits.increment();
        return e;
    }

    /**
     * Reads the bucket from the projection, single-flight per bucket (concurrent callers share one
     * read), and installs the result if it is newer than what is cached. Returns what to serve: the
     * newest entry this instance has for the bucket, or {@code null} when the projection has no
     * acceptable snapshot (miss, corrupt value, unknown generation). When the cache is full the read
     * is done and returned without caching.
     *
     * @throws ProjectionException when the projection cannot be read
     */
    public @Nullable Entry load(Bucket bucket) {
        Slot s = slotFor(bucket);
        if (s == null) {
            Snapshot snap = readAccepted(bucket, null);
            if (snap == null) {
                return null;
            }
            long ord = ordinalOf(snap.generation());
            return ord < 0 ? null : new Entry(snap, ord, clock.millis());
        }
        CompletableFuture<Entry> f;
        boolean leader = false;
        synchronized (s) {
            f = s.loading;
            if (f == null) {
                f = new CompletableFuture<>();
                s.loading = f;
                leader = true;
            }
        }
        if (leader) {
            loads.increment();
            try {
                long mark = s.retires;
                Snapshot snap = readAccepted(bucket, held(s));
                f.complete(snap == null ? null : offer(s, snap, mark));
            } catch (Throwable t) {
                f.completeExceptionally(t);
            } finally {
                synchronized (s) {
                    s.loading = null;
                }
            }
        }
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    /**
     * Installs a snapshot obtained elsewhere (the database fallback, which activated it under this
     * version) if it is newer than the cached one and no retire notice for the bucket arrived since
     * {@code retireMark} was taken; returns the entry to serve (never an older one than already
     * served), or {@code null} when nothing is cached for the bucket (no room, or retired meanwhile).
     *
     * @param retireMark {@link #retireMark} of the bucket, taken before the version was allocated
     */
    public @Nullable Entry offer(Snapshot snapshot, long retireMark) {
        Slot s = slotFor(snapshot.bucket());
        if (s == null) {
            return null;
        }
        return offer(s, snapshot, retireMark);
    }

    /**
     * The count of retire notices this cache has seen for {@code bucket}, to pass to {@link
     * #offer(Snapshot, long)} for a snapshot produced after this call. Reserves the bucket's place in
     * the cache (so a notice that arrives meanwhile is counted); {@code -1} when there is no room.
     */
    public long retireMark(Bucket bucket) {
        Slot s = slotFor(bucket);
        return s == null ? -1 : s.retires;
    }

    private @Nullable Slot slotFor(Bucket bucket) {
        Slot s = slots.get(bucket);
        if (s != null) {
            return s;
        }
        if (slots.size() >= config.maxBuckets()) {
            return null;
        }
        return slots.computeIfAbsent(bucket, b -> new Slot());
    }

    /** The snapshot the slot holds, if any: what a refresh needs not transfer again. */
    private static @Nullable Snapshot held(Slot s) {
        Entry e = s.entry;
        return e == null ? null : e.snapshot();
    }

    private @Nullable Snapshot readAccepted(Bucket bucket, @Nullable Snapshot held) {
        Lookup<Snapshot> l = projection.refreshSnapshot(bucket, held);
        if (l instanceof Lookup.Hit<Snapshot> hit
                && generations.adoptIfStored(hit.found().generation())) {
            return hit.found();
        }
        return null;
    }

    /**
     * This instance's order of {@code generation}, or -1 when it is new here and the service no longer
     * accepts it. A new generation is ordered under one lock and only after accepting it again: a
     * snapshot read and accepted just before the service moved on (its reader preempted meanwhile) must
     * not be ordered after the generation that replaced it, or the bucket would stay on the old
     * generation and refuse every snapshot of the new one.
     */
    private long ordinalOf(String generation) {
        Long o = generationOrdinals.get(generation);
        if (o != null) {
            return o;
        }
        synchronized (generationOrdinals) {
            o = generationOrdinals.get(generation);
            if (o != null) {
                return o;
            }
            if (!generations.accepts(generation)) {
                return -1;
            }
            long next = nextOrdinal.incrementAndGet();
            generationOrdinals.put(generation, next);
            return next;
        }
    }

    private @Nullable Entry offer(Slot s, Snapshot snap, long retireMark) {
        long ord = ordinalOf(snap.generation());
        if (ord < 0) {
            return s.entry;
        }
        long now = clock.millis();
        synchronized (s) {
            if (s.retires != retireMark) {
                // Retired after this snapshot was read: it may be the retired content. Serve nothing
                // from memory; the caller reads the projection (a miss) and then the database.
                return s.entry;
            }
            if (ord > s.highOrdinal || (ord == s.highOrdinal && snap.version() > s.highVersion)) {
                Entry e = new Entry(snap, ord, now);
                s.highOrdinal = ord;
                s.highVersion = snap.version();
                s.entry = e;
                changed(snap.bucket());
                return e;
            }
            Entry cur = s.entry;
            if (ord == s.highOrdinal && snap.version() == s.highVersion) {
                // The projection still holds what we hold: a confirmation.
                Entry e = cur != null ? new Entry(cur.snapshot(), cur.ordinal(), now) : new Entry(snap, ord, now);
                s.entry = e;
                return e;
            }
            return cur;
        }
    }

    // ---- refresh -----------------------------------------------------------------------------

    /** Subscribes to invalidations and starts the refresh and check threads. */
    public NearCache start() {
        synchronized (lifecycle) {
            if (closed || refreshThread != null) {
                throw new IllegalStateException("near cache already started or closed");
            }
            trySubscribe();
            refreshThread = Thread.ofPlatform()
                    .daemon()
                    .name("roster-nearcache-refresh")
                    .start(this::refreshLoop);
            AtomicInteger n = new AtomicInteger();
            checkTimer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform()
                    .daemon()
                    .name("roster-nearcache-check-" + n.incrementAndGet())
                    .unstarted(r));
            long ms = config.checkInterval().toMillis();
            // No handle needed: close() stops the schedule by shutting the timer down.
            var unused = checkTimer.scheduleWithFixedDelay(this::checkAll, ms, ms, TimeUnit.MILLISECONDS);
        }
        return this;
    }

    private void trySubscribe() {
        synchronized (lifecycle) {
            if (subscription != null || closed) {
                return;
            }
            try {
                subscription = projection.subscribe(this::onInvalidation);
            } catch (RuntimeException e) {
                // Not fatal: the version check keeps entries current and retries the subscription.
                LOG.warn("near cache cannot subscribe to invalidations yet: {}", e.getMessage());
            }
        }
    }

    private void onInvalidation(Invalidation inv) {
        // Runs on the client's I/O thread: compare and queue, never read here.
        invalidations.increment();
        Slot s = slots.get(inv.bucket());
        if (s == null) {
            return;
        }
        if (inv.retired()) {
            // The bucket answers empty from now on: stop serving it at once rather than at the next
            // version check. Dropping is safe whatever the order of messages: the next read asks the
            // projection, and a snapshot activated after a reopen arrives with its own notice.
            synchronized (s) {
                s.retires++;
                s.entry = null;
            }
            changed(inv.bucket());
            return;
        }
        Entry e = s.entry;
        if (e != null
                && e.snapshot().generation().equals(inv.generation())
                && e.snapshot().version() >= inv.version()) {
            return;
        }
        enqueue(inv.bucket());
    }

    private void enqueue(Bucket b) {
        if (queued.add(b)) {
            queue.add(b);
        }
    }

    private void refreshLoop() {
        while (!closed) {
            Bucket b;
            try {
                b = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            queued.remove(b);
            refreshes.increment();
            refresh(b);
        }
    }

    /** Re-reads one cached bucket; returns whether a newer snapshot was installed. */
    private boolean refresh(Bucket b) {
        Slot s = slots.get(b);
        if (s == null) {
            return false;
        }
        try {
            long mark = s.retires;
            Lookup<Snapshot> l = projection.refreshSnapshot(b, held(s));
            if (l instanceof Lookup.Hit<Snapshot> hit) {
                Snapshot snap = hit.found();
                if (!generations.adoptIfStored(snap.generation())) {
                    return false;
                }
                Entry before = s.entry;
                Entry after = offer(s, snap, mark);
                return after != null
                        && (before == null
                                || after.newerThan(
                                        before.ordinal(), before.snapshot().version()));
            }
            if (l instanceof Lookup.Miss<Snapshot>) {
                onMiss(b, s);
            }
        } catch (RuntimeException e) {
            LOG.debug("near cache refresh of {} failed: {}", b, e.getMessage());
        }
        return false;
    }

    private void onMiss(Bucket b, Slot s) {
        // A current projection without the bucket means it was retired: stop serving it. A projection
        // without a generation was flushed and is being rebuilt: keep serving until max_stale.
        Optional<Generation> g = projection.generation().value();
        if (g.isPresent() && generations.adoptIfStored(g.get().id())) {
            synchronized (s) {
                s.entry = null;
            }
            changed(b);
        }
    }

    /** The version check's body: the check thread runs it each {@code check_interval}; tests call it on their clock. */
    void checkAll() {
        try {
            trySubscribe();
            for (Map.Entry<Bucket, Slot> e : List.copyOf(slots.entrySet())) {
                if (closed) {
                    return;
                }
                if (e.getValue().entry == null) {
                    continue;
                }
                checks.increment();
                if (refresh(e.getKey())) {
                    // The check found a version the invalidations did not bring: a lost message.
                    healed.increment();
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("near cache check failed: {}", e.getMessage(), e);
        }
    }

    /** Drops every cached bucket (e.g. after a configuration change); the next reads load again. */
    public void clear() {
        slots.forEach((b, s) -> {
            synchronized (s) {
                s.entry = null;
            }
            changed(b);
        });
    }

    /**
     * Calls {@code listener} with the bucket whenever this cache installs a newer snapshot of it or drops
     * it (retire, miss, {@link #clear}), so a watcher can look at what is served now (the answer feed of
     * {@code dev.roster.core.watch}). Confirmations of the same snapshot are not reported. The listener
     * runs under the cache's locks and on Redis I/O threads: it must only queue the bucket, never block
     * or read the cache back there.
     */
    public void addChangeListener(Consumer<Bucket> listener) {
        changeListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** Stops calling a listener added with {@link #addChangeListener}. */
    public void removeChangeListener(Consumer<Bucket> listener) {
        changeListeners.remove(listener);
    }

    private void changed(Bucket b) {
        for (Consumer<Bucket> l : changeListeners) {
            try {
                l.accept(b);
            } catch (RuntimeException e) {
                LOG.warn("near cache change listener failed on {}: {}", b, e.getMessage(), e);
            }
        }
    }

    /** The buckets that currently have an entry. */
    public List<Bucket> cachedBuckets() {
        List<Bucket> out = new ArrayList<>();
        slots.forEach((b, s) -> {
            if (s.entry != null) {
                out.add(b);
            }
        });
        return out;
    }

    /**
     * The entries {@link #get} would serve now (confirmed within {@code max_stale}), per bucket; for
     * the serving digest. Counts nothing.
     */
    public Map<Bucket, Entry> servedEntries() {
        long now = clock.millis();
        Map<Bucket, Entry> out = new java.util.HashMap<>();
        slots.forEach((b, s) -> {
            Entry e = s.entry;
            if (e != null && now - e.confirmedAtMillis <= maxStaleMillis) {
                out.put(b, e);
            }
        });
        return out;
    }

    /** Counters, read when asked. */
    public Stats stats() {
        return new Stats(
                hits.sum(),
                staleMisses.sum(),
                loads.sum(),
                invalidations.sum(),
                refreshes.sum(),
                checks.sum(),
                healed.sum(),
                cachedBuckets().size(),
                subscription != null);
    }

    /**
     * Near-cache counters since start.
     *
     * @param hits reads answered from memory
     * @param staleMisses reads that found an entry older than {@code max_stale}
     * @param loads projection reads on a cold or stale bucket (single-flight leaders)
     * @param invalidations invalidation messages received
     * @param refreshes re-reads triggered by invalidations
     * @param checks re-reads by the version check
     * @param healed version checks that installed a version no invalidation had brought
     * @param buckets buckets cached now
     * @param subscribed whether the invalidation subscription is established
     */
    public record Stats(
            long hits,
            long staleMisses,
            long loads,
            long invalidations,
            long refreshes,
            long checks,
            long healed,
            int buckets,
            boolean subscribed) {}

    /** Stops the threads and the subscription. Idempotent. */
    @Override
    public void close() {
        Thread t;
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            t = refreshThread;
        }
        Subscription sub;
        synchronized (lifecycle) {
            sub = subscription;
        }
        if (sub != null) {
            sub.close();
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (checkTimer != null) {
            checkTimer.shutdownNow();
            try {
                if (!checkTimer.awaitTermination(30, TimeUnit.SECONDS)) {
                    LOG.warn("near cache check thread did not stop within 30 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
