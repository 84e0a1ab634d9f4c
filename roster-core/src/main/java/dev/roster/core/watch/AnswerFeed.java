package dev.roster.core.watch;

import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.RunMode;
import dev.roster.core.TimeFilter;
import dev.roster.core.nearcache.NearCache;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.service.ListResult;
import dev.roster.core.service.SnapshotService;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells watchers when the answer of {@link SnapshotService#list} changes for the buckets they watch: a new
 * (generation, version) reached this instance, the bucket was retired, or the time filter let a card in
 * or out (a block ended, an expiry passed) without any version change.
 *
 * <p><b>Contract.</b> {@link #watch} delivers, for each watched bucket, its current {@link AnswerState}
 * soon after the call, and then every later state whose {@linkplain AnswerState#fingerprint() answer}
 * differs from the last one delivered to that watcher. States of one bucket never go back to an older
 * (generation, version): they are what this instance's {@code list} answers, which never does. A change
 * that reverts before the feed looks (a card that enters and leaves between two looks) may be skipped:
 * what is delivered is always the current answer.
 *
 * <p><b>When it looks.</b> The source of changes is this instance's near cache: every install of a newer
 * snapshot, retire and drop marks the bucket, and the feed's thread re-reads it from memory at once, so a
 * change reaches watchers as soon as the near cache has it (the freshness bound). The thread also wakes at
 * the next {@link AnswerState#validUntil()} of any watched bucket (time-window boundaries, on the
 * application clock), and every {@code tick} re-reads every watched bucket, which covers answers that do
 * not come from the near cache (stale entries, the database fallback during a Redis outage, a disabled or
 * full near cache) and application clocks that jump.
 *
 * <p>Thread-safe. Listeners run on the feed's thread {@code roster-watch}; see {@link AnswerListener}.
 */
public final class AnswerFeed implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AnswerFeed.class);
    private static final Duration LIST_BUDGET = Duration.ofSeconds(1);

    private final SnapshotService service;
    private final RunMode runMode;
    private final InstantSource clock;
    private final long tickNanos;
    private final LinkedBlockingQueue<Object> work = new LinkedBlockingQueue<>();
    private final Set<Bucket> marked = ConcurrentHashMap.newKeySet();
    // Only the feed's thread touches the tracked buckets.
    private final Map<Bucket, Tracked> tracked = new HashMap<>();
    private final Consumer<Bucket> onNearCacheChange = this::mark;
    private final Thread thread;
    private volatile @Nullable NearCache attached;
    private volatile int trackedCount;
    private volatile boolean closed;

    private static final class Tracked {
        final List<Registration> watchers = new ArrayList<>();

        @Nullable
        AnswerState state;
    }

    private final class Registration implements Watch {
        final List<Bucket> buckets;
        final AnswerListener listener;
        volatile boolean open = true;

        Registration(List<Bucket> buckets, AnswerListener listener) {
            this.buckets = buckets;
            this.listener = listener;
        }

        @Override
        public void close() {
            if (open) {
                open = false;
                work.add((Runnable) () -> unregister(this));
            }
        }
    }

    /**
     * A feed over {@code service} (started: its near cache is the source of changes); starts its thread.
     *
     * @param runMode the service's run mode (in simple mode only group-0 buckets are answered)
     * @param clock the service's application clock (the time filter's)
     * @param tick how often every watched bucket is re-read regardless of notices, &gt; 0
     */
    public AnswerFeed(SnapshotService service, RunMode runMode, InstantSource clock, Duration tick) {
        this.service = Objects.requireNonNull(service, "service");
        this.runMode = Objects.requireNonNull(runMode, "runMode");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (tick.isNegative() || tick.isZero()) {
            throw new IllegalArgumentException("watch tick must be positive, got " + tick);
        }
        this.tickNanos = tick.toNanos();
        this.thread = Thread.ofPlatform().daemon().name("roster-watch").start(this::loop);
    }

    /**
     * Checks that {@code list} answers {@code bucket} under its own name, so a watcher of it sees what a
     * reader gets: its mode must be the one the hot path resolves for its platform (forced, else mixed
     * for mixed-capable platforms, else single) and, in simple run mode, its group 0.
     *
     * @throws IllegalArgumentException naming the bucket and what the hot path would answer instead
     */
    public static Bucket requireWatchable(Bucket bucket, RunMode runMode) {
        Mode resolved = Mode.resolve(bucket.platform(), bucket.mode() == Mode.FORCED);
        if (resolved != bucket.mode()) {
            throw new IllegalArgumentException("bucket " + bucket.text() + " is never answered: platform "
                    + bucket.platform() + " without force is answered as "
                    + new Bucket(bucket.groupId(), bucket.platform(), resolved).text());
        }
        if (runMode == RunMode.SIMPLE && bucket.groupId() != 0) {
            throw new IllegalArgumentException(
                    "bucket " + bucket.text() + " is never answered: in run_mode simple every bucket is group 0");
        }
        return bucket;
    }

    /**
     * Watches {@code buckets}: {@code listener} gets each bucket's current state soon after this call, then
     * each change of its answer, until the returned watch is closed (or the feed is).
     *
     * @throws IllegalArgumentException when a bucket is not watchable ({@link #requireWatchable}) or none
     *     is given
     * @throws IllegalStateException when the feed is closed
     */
    public Watch watch(Collection<Bucket> buckets, AnswerListener listener) {
        Objects.requireNonNull(listener, "listener");
        LinkedHashSet<Bucket> distinct = new LinkedHashSet<>();
        for (Bucket b : buckets) {
            distinct.add(requireWatchable(Objects.requireNonNull(b, "bucket"), runMode));
        }
        if (distinct.isEmpty()) {
            throw new IllegalArgumentException("watch needs at least one bucket");
        }
        if (closed) {
            throw new IllegalStateException("the answer feed is closed");
        }
        Registration r = new Registration(List.copyOf(distinct), listener);
        work.add((Runnable) () -> register(r));
        return r;
    }

    /** How many distinct buckets are watched now (read on any thread; may lag a registration). */
    public int watchedBuckets() {
        return trackedCount;
    }

    private void mark(Bucket b) {
        // Called by the near cache under its locks and on Redis I/O threads: only queue.
        if (marked.add(b)) {
            work.add(b);
        }
    }

    // ---- the feed's thread ----------------------------------------------------------------------

    private void loop() {
        long lastTick = System.nanoTime();
        while (!closed) {
            try {
                attach();
                Object item = work.poll(waitMillis(lastTick), TimeUnit.MILLISECONDS);
                while (item != null && !closed) {
                    handle(item);
                    item = work.poll();
                }
                boolean tick = System.nanoTime() - lastTick >= tickNanos;
                if (tick) {
                    lastTick = System.nanoTime();
                }
                Instant now = clock.instant();
                for (Map.Entry<Bucket, Tracked> e : tracked.entrySet()) {
                    AnswerState s = e.getValue().state;
                    boolean boundary = s != null && s.validUntil() != null && !now.isBefore(s.validUntil());
                    if (tick || s == null || boundary) {
                        evaluate(e.getKey(), e.getValue());
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.warn("answer feed step failed: {}", e.getMessage(), e);
            }
        }
    }

    private void attach() {
        if (attached == null) {
            NearCache nc = service.nearCache().orElse(null);
            if (nc != null) {
                nc.addChangeListener(onNearCacheChange);
                attached = nc;
            }
        }
    }

    private long waitMillis(long lastTick) {
        long ms = Math.max(1, TimeUnit.NANOSECONDS.toMillis(tickNanos - (System.nanoTime() - lastTick)));
        Instant now = clock.instant();
        for (Tracked t : tracked.values()) {
            Instant until = t.state == null ? null : t.state.validUntil();
            if (until != null) {
                // Rounded up and one more: waking a little early would find the old answer still valid.
                long d = Duration.between(now, until).toMillis() + 1;
                ms = Math.max(1, Math.min(ms, d));
            }
        }
        return ms;
    }

    private void handle(Object item) {
        if (item instanceof Runnable task) {
            task.run();
        } else if (item instanceof Bucket b) {
            marked.remove(b);
            Tracked t = tracked.get(b);
            if (t != null) {
                evaluate(b, t);
            }
        }
    }

    private void register(Registration r) {
        if (!r.open) {
            return;
        }
        for (Bucket b : r.buckets) {
            Tracked t = tracked.get(b);
            if (t == null) {
                t = new Tracked();
                tracked.put(b, t);
            }
            t.watchers.add(r);
            if (t.state == null) {
                evaluate(b, t);
            } else {
                deliver(r, t.state);
            }
        }
        trackedCount = tracked.size();
    }

    private void unregister(Registration r) {
        for (Bucket b : r.buckets) {
            Tracked t = tracked.get(b);
            if (t != null) {
                t.watchers.remove(r);
                if (t.watchers.isEmpty()) {
                    tracked.remove(b);
                }
            }
        }
        trackedCount = tracked.size();
    }

    private void evaluate(Bucket b, Tracked t) {
        AnswerState s = read(b);
        AnswerState before = t.state;
        if (s == null) {
            if (before != null && before.validUntil() != null) {
                // Unreadable now: forget the boundary, or a boundary in the past would wake the thread
                // again at once, over and over; the tick tries again.
                t.state = new AnswerState(b, before.generation(), before.version(), before.fingerprint(), null);
            }
            return;
        }
        t.state = s;
        if (before == null || before.fingerprint() != s.fingerprint()) {
            for (Registration r : List.copyOf(t.watchers)) {
                deliver(r, s);
            }
        }
    }

    private static void deliver(Registration r, AnswerState s) {
        if (!r.open) {
            return;
        }
        try {
            r.listener.changed(s);
        } catch (RuntimeException e) {
            LOG.warn("watch listener failed on {}: {}", s.bucket(), e.getMessage(), e);
        }
    }

    /** What {@code list} answers for {@code b} now, or {@code null} when it cannot answer (tried again later). */
    private @Nullable AnswerState read(Bucket b) {
        NearCache nc = attached;
        NearCache.Entry e = nc == null ? null : nc.get(b);
        if (e == null) {
            ListResult r;
            try {
                // The hot path itself: it loads the bucket into the near cache, whose installs then mark it.
                r = service.list(b.groupId(), b.platform(), b.mode() == Mode.FORCED, LIST_BUDGET);
            } catch (RuntimeException ex) {
                LOG.debug("watch cannot read {} now: {}", b, ex.getMessage());
                return null;
            }
            e = nc == null ? null : nc.get(b);
            if (e == null) {
                // Not from memory (database fallback, no near cache): no durable cards to find the next
                // boundary with; the tick re-reads it.
                return AnswerState.of(b, r.generation(), r.version(), r.accounts(), null);
            }
        }
        Snapshot s = e.snapshot();
        Instant now = clock.instant();
        return AnswerState.of(
                b,
                s.generation(),
                s.version(),
                TimeFilter.apply(s.cards(), now),
                TimeWindow.nextChange(s.cards(), now));
    }

    /** Stops the thread and every watch; listeners are not called afterwards. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        NearCache nc = attached;
        if (nc != null) {
            nc.removeChangeListener(onNearCacheChange);
        }
    }
}
