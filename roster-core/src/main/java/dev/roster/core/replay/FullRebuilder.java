package dev.roster.core.replay;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.internal.Engine;
import dev.roster.core.internal.Universe;
import dev.roster.core.outbox.OutboxSource;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.Lease;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.projection.StoreOrigin;
import dev.roster.core.source.GroupInfo;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * The full rebuild with its coalescer (upstream lesson 10): one run at a time; a request that arrives
 * while a run is in progress joins exactly one trailing run, because the running one may have read
 * the database before that request's cause committed. Runs on {@code executor} (a dedicated thread in
 * a deployment; the calling thread in step-driven tests).
 *
 * <p>A run reads the outbox horizon first, then rebuilds every registered and canonical bucket (group 0
 * and every active group, on every platform of the universe), retiring the buckets of groups that are
 * not active, rewrites the card of every live account (deleting the cards of accounts that are gone),
 * and finally moves the watermark to that horizon
 * (fenced by the replayer lease, when this instance holds it). When the stored generation is missing
 * or was made for other settings, the run publishes under a new generation and stores it at the end;
 * the service is ready after that.
 */
public final class FullRebuilder {
    private static final System.Logger LOG = System.getLogger(FullRebuilder.class.getName());
    /** Cards per projection write while streaming every account. */
    private static final int CARD_BATCH = 500;

    private final Engine engine;
    private final OutboxSource outbox;
    private final LeaseKeeper leases;
    private final Executor executor;
    private final Object lock = new Object();
    private final AtomicLong runs = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong interrupted = new AtomicLong();
    private final ConcurrentHashMap<String, AtomicLong> runsByReason = new ConcurrentHashMap<>();
    private volatile LongConsumer onHorizon = h -> {};
    private boolean running;
    private CompletableFuture<Void> trailing;
    private String trailingReason;
    private boolean newGenerationRequested;

    public FullRebuilder(Engine engine, OutboxSource outbox, LeaseKeeper leases, Executor executor) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.outbox = Objects.requireNonNull(outbox, "outbox");
        this.leases = Objects.requireNonNull(leases, "leases");
        this.executor = Objects.requireNonNull(executor, "executor");
    }

    /** Sets who is told the horizon a successful run moved the watermark to (the replayer). */
    public void onHorizon(LongConsumer consumer) {
        this.onHorizon = Objects.requireNonNull(consumer, "consumer");
    }

    /**
     * Requests a full rebuild. The future completes when a run that started after this request
     * finished: normally on success, exceptionally with the run's error.
     */
    public CompletableFuture<Void> request(String reason) {
        CompletableFuture<Void> f;
        synchronized (lock) {
            if (running) {
                if (trailing == null) {
                    trailing = new CompletableFuture<>();
                    trailingReason = reason;
                }
                return trailing;
            }
            running = true;
            f = new CompletableFuture<>();
        }
        CompletableFuture<Void> first = f;
        try {
            executor.execute(() -> runLoop(first, reason));
        } catch (RuntimeException e) {
            synchronized (lock) {
                running = false;
            }
            f.completeExceptionally(e);
        }
        return f;
    }

    /**
     * Requests a full rebuild under a new generation even though the stored one was made for these
     * settings: the store changed under it (a failover may have lost writes, so versions of the old
     * generation can be handed out again for other content). Coalesced like {@link #request}; the
     * first run that starts after this call switches generation.
     */
    public CompletableFuture<Void> requestNewGeneration(String reason) {
        synchronized (lock) {
            newGenerationRequested = true;
        }
        return request(reason);
    }

    /** Whether a run is in progress or queued. */
    public boolean busy() {
        synchronized (lock) {
            return running;
        }
    }

    /** Completed runs (successful or not). */
    public long runs() {
        return runs.get();
    }

    /** Failed runs (interrupted ones included). */
    public long failures() {
        return failures.get();
    }

    /** Runs stopped because their thread was interrupted (the service closing). */
    public long interrupted() {
        return interrupted.get();
    }

    /**
     * Runs started so far per reason (the reason of the request that started the run, or of the
     * first request a trailing run coalesced): a copy, for metrics and for tests that must prove no
     * full rebuild ran (a full rebuild repairs whatever a skipped event lost, so it hides a skip).
     */
    public Map<String, Long> runsByReason() {
        Map<String, Long> out = new TreeMap<>();
        runsByReason.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    private void runLoop(CompletableFuture<Void> f, String reason) {
        CompletableFuture<Void> current = f;
        String why = reason;
        while (true) {
            Throwable error = null;
            runsByReason.computeIfAbsent(why, k -> new AtomicLong()).incrementAndGet();
            try {
                runOnce(why);
            } catch (Throwable t) {
                error = t;
                failures.incrementAndGet();
                if (Thread.currentThread().isInterrupted() || t instanceof InterruptedException) {
                    // Closing: nothing went wrong, and the next holder finds what is left to do.
                    interrupted.incrementAndGet();
                    LOG.log(Level.INFO, "full rebuild (" + why + ") stopped: the service is closing");
                } else {
                    LOG.log(Level.WARNING, "full rebuild (" + why + ") failed: " + t.getMessage());
                }
            }
            runs.incrementAndGet();
            CompletableFuture<Void> next;
            String nextWhy;
            // Settle the state before releasing the waiters, so they observe it.
            synchronized (lock) {
                next = trailing;
                nextWhy = trailingReason;
                trailing = null;
                if (next == null) {
                    running = false;
                }
            }
            if (error == null) {
                current.complete(null);
            } else {
                current.completeExceptionally(error);
            }
            if (next == null) {
                return;
            }
            current = next;
            why = nextWhy;
        }
    }

    private void runOnce(String reason) {
        Projection projection = engine.projection();
        engine.applyLock().lock();
        try {
            boolean forced;
            synchronized (lock) {
                forced = newGenerationRequested;
                newGenerationRequested = false;
            }
            // Read before anything is written: the new generation is stamped with this process, so a
            // failover during the run (which could lose some of its writes) is reported by the next check.
            StoreOrigin origin = projection.origin();
            Optional<Generation> stored = projection.generation().value();
            boolean fresh = forced || stored.isEmpty() || !stored.get().matches(engine.fingerprint());
            Generation target = fresh ? Generation.random(engine.fingerprint()) : stored.get();
            if (forced && stored.isPresent()) {
                engine.abandonGeneration(stored.get().id());
            }
            engine.generationId(target.id());

            // The horizon first: every transaction below it has finished before any read below.
            long horizon = outbox.read(Long.MAX_VALUE, Set.of(), null, 1).horizon();
            Set<Bucket> registered = projection.buckets();
            Set<Long> active = new TreeSet<>();
            for (GroupInfo g : engine.source().activeGroups()) {
                active.add(g.id());
            }
            Set<String> platforms = Universe.platforms(engine.source().platforms(), registered);
            Set<Bucket> all = new LinkedHashSet<>(registered);
            all.addAll(Universe.canonical(0, platforms));
            if (engine.config().runMode() == dev.roster.core.RunMode.STANDARD) {
                for (long g : active) {
                    all.addAll(Universe.canonical(g, platforms));
                }
            }
            Map<Bucket, Engine.Result> results = engine.rebuildAll(all, active);
            int failed = 0;
            Throwable first = null;
            for (Map.Entry<Bucket, Engine.Result> e : results.entrySet()) {
                if (!e.getValue().ok()) {
                    failed++;
                    if (first == null) {
                        first = e.getValue().error();
                    }
                }
            }
            if (failed > 0) {
                throw new IllegalStateException(
                        failed + " of " + all.size() + " buckets failed to rebuild; first: " + first.getMessage(),
                        first);
            }
            int cards = rewriteCards(projection);
            Optional<Lease> lease = leases.held();
            if (lease.isPresent()) {
                projection.advanceWatermark(lease.get(), horizon);
                onHorizon.accept(horizon);
            }
            if (fresh) {
                // The generation is stored last, and storing it declares every snapshot of the run
                // current. If the store lost the run's writes meanwhile (FLUSHALL, a restart without
                // persistence), storing it anyway would make this generation current over an empty
                // store whose version counters start again at 1: the same (generation, version) would
                // then be handed out again for other content, and a near cache that holds it keeps
                // its old content for good. Fail the run instead; the next one finds no generation
                // and rebuilds under a new one.
                for (Map.Entry<Bucket, Engine.Result> e : results.entrySet()) {
                    if (e.getValue().outcome() != Engine.Outcome.RETIRED
                            && !(projection.readSnapshot(e.getKey()) instanceof Lookup.Hit<Snapshot>)) {
                        throw new IllegalStateException("the projection lost this run's snapshot of " + e.getKey()
                                + " before its generation was stored (flushed?); not storing generation "
                                + target.id());
                    }
                }
                projection.putGeneration(target, origin.current());
            }
            engine.ready(true);
            LOG.log(
                    Level.INFO,
                    "full rebuild (" + reason + ") done: " + all.size() + " buckets, " + cards + " cards"
                            + (fresh ? ", new generation" : ""));
        } finally {
            engine.applyLock().unlock();
        }
    }

    /**
     * Writes the card of every live account, in bucket or not, and deletes the cards of accounts that
     * no longer exist (or are soft-deleted): an account that left every bucket while its event was
     * lost (skipped by a fast-forward, dead-lettered, removed from the outbox) has no bucket to be
     * repaired through, and its card is what {@code GET /v1/accounts/{id}} and sticky sessions read.
     * A card that looks stale is deleted only after a second read confirms the account is gone: it may
     * belong to an account created after the stream read it, whose card the replayer wrote since.
     *
     * @return the number of cards written
     */
    private int rewriteCards(Projection projection) {
        Set<Long> live = new HashSet<>();
        List<AccountCard> batch = new ArrayList<>(CARD_BATCH);
        engine.source().loadAllCards(c -> {
            live.add(c.id());
            batch.add(c);
            if (batch.size() >= CARD_BATCH) {
                projection.putCards(batch);
                batch.clear();
            }
        });
        if (!batch.isEmpty()) {
            projection.putCards(batch);
        }
        Set<Long> stale = new TreeSet<>(projection.cardIds());
        stale.removeAll(live);
        int written = live.size();
        if (!stale.isEmpty()) {
            Map<Long, AccountCard> appeared = engine.source().loadCards(stale);
            if (!appeared.isEmpty()) {
                projection.putCards(appeared.values());
                written += appeared.size();
                stale.removeAll(appeared.keySet());
            }
            projection.deleteCards(stale);
            LOG.log(Level.INFO, "full rebuild deleted " + stale.size() + " cards of accounts that no longer exist");
        }
        return written;
    }
}
