package dev.roster.core.replay;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.RunMode;
import dev.roster.core.internal.CurrentGeneration;
import dev.roster.core.internal.Engine;
import dev.roster.core.internal.Universe;
import dev.roster.core.outbox.OutboxSource;
import dev.roster.core.pool.PoolModel;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.Lease;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.PublishOutcome;
import dev.roster.core.projection.StoreOrigin;
import dev.roster.core.projection.VersionTicket;
import dev.roster.core.source.GroupInfo;
import dev.roster.core.source.PoolSink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.function.ToIntFunction;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The full rebuild with its coalescer (docs/upstream.md L10): one run at a time; a request that arrives
 * while a run is in progress joins exactly one trailing run, because the running one may have read
 * the database before that request's cause committed. Runs on {@code executor} (a dedicated thread in
 * a deployment; the calling thread in step-driven tests).
 *
 * <p>A run never holds a lock the replay thread waits for. It loads the pool in bulk into a new {@link
 * dev.roster.core.pool.PoolModel} ({@link dev.roster.core.source.SchedulingSource#loadPool}, the horizon
 * read first in the load's snapshot), computes every registered and canonical bucket (group 0 and every
 * active group, on every platform of the universe) and offers the model to the replay thread, which
 * adopts it between two batches after re-reading what its batches named meanwhile. Then the run
 * publishes every bucket in chunks (versions allocated before the shared content is read, so a replay
 * publish racing with it wins or is included), retiring the buckets of groups that are not active,
 * rewrites the card of every live account it has not seen the replay thread write since it began
 * (deleting the cards of accounts that are gone), and finally moves the watermark to the horizon
 * (fenced by the replayer lease, when this instance holds it). Without a replay thread to adopt the
 * model, the run allocates every version first and loads the pool again on its own. When the stored
 * generation is missing or was made for other settings, the run publishes under a new generation and
 * stores it at the end, after one check that none of its snapshots was lost; the service is ready
 * after that.
 */
public final class FullRebuilder {
    private static final Logger LOG = LoggerFactory.getLogger(FullRebuilder.class);
    /** Cards per projection write while streaming every account. */
    private static final int CARD_BATCH = 500;
    /** Buckets per allocate-and-publish round trip pair. */
    private static final int BUCKET_CHUNK = 500;
    /**
     * Buckets per publish from the shared view: each such chunk holds the replay thread's lock, so it
     * is small enough that a replay batch waits a few milliseconds at most.
     */
    private static final int VIEW_CHUNK = 64;
    /**
     * Cards per publish from the shared view: a chunk ends before this many, since encoding is what the
     * lock is held for and it grows with the cards. A bucket larger than this is a chunk of its own (a
     * chunk of 64 buckets that held several 25,000-card group-0 buckets held the lock for 300 ms).
     */
    private static final int VIEW_CHUNK_CARDS = 2_000;
    /** How often a rebuild waiting for the replay thread to adopt its model checks that it still replays. */
    private static final Duration ADOPTION_WAIT = Duration.ofMillis(200);

    private final Engine engine;
    private final CurrentGeneration generation;
    private final LeaseKeeper leases;
    private final Executor executor;
    private final Object lock = new Object();
    private final AtomicLong runs = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong interrupted = new AtomicLong();
    private final ConcurrentHashMap<String, AtomicLong> runsByReason = new ConcurrentHashMap<>();
    private volatile LongConsumer onHorizon = h -> {};
    private volatile Adopter adopter = NOBODY;
    private volatile Runnable wakeReplay = () -> {};
    private volatile @Nullable RebuildTracking tracking;
    private final BucketContents contents = new BucketContents();
    private boolean running;
    private @Nullable CompletableFuture<Void> trailing;
    private @Nullable String trailingReason;
    private boolean newGenerationRequested;

    // Public only for ServiceAssembly, in another package of this module: the internal Engine in the
    // signature keeps every caller outside the module away, which is the point ("exports" lint).
    @SuppressWarnings("exports")
    public FullRebuilder(
            Engine engine, CurrentGeneration generation, OutboxSource outbox, LeaseKeeper leases, Executor executor) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.generation = Objects.requireNonNull(generation, "generation");
        // Not kept: the rebuild reads the outbox through the engine's source.
        Objects.requireNonNull(outbox, "outbox");
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
                if (t instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                if (Thread.currentThread().isInterrupted()) {
                    // Closing: nothing went wrong, and the next holder finds what is left to do.
                    interrupted.incrementAndGet();
                    LOG.info("full rebuild ({}) stopped: the service is closing", why);
                } else {
                    LOG.warn("full rebuild ({}) failed: {}", why, t.getMessage());
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
            // trailing and trailingReason are set together.
            why = Objects.requireNonNull(nextWhy, "trailingReason");
        }
    }

    /**
     * Who takes over a model this rebuild loaded (the replay thread of this instance). Package-private:
     * the {@link Replayer} registers itself.
     */
    interface Adopter {
        /** Whether a replay thread that keeps a model runs here now and will adopt an offered one. */
        boolean replaying();

        /** Offers {@code pool}; its {@link PreparedPool#adopted} completes when taken or declined. */
        void offer(PreparedPool pool);

        /** Takes the offer back if the replay thread has not taken it yet; true when withdrawn. */
        boolean withdraw(PreparedPool pool);
    }

    private static final Adopter NOBODY = new Adopter() {
        @Override
        public boolean replaying() {
            return false;
        }

        @Override
        public void offer(PreparedPool pool) {
            pool.adopted.complete(false);
        }

        @Override
        public boolean withdraw(PreparedPool pool) {
            return true;
        }
    };

    /** Sets who adopts the models this rebuilder loads (the replayer). */
    void adopter(Adopter a) {
        this.adopter = Objects.requireNonNull(a, "adopter");
    }

    /** Sets how a rebuild that offers its model wakes the replay thread (the service's wake-up). */
    public void onHandOver(Runnable wake) {
        this.wakeReplay = Objects.requireNonNull(wake, "wake");
    }

    /** The content view shared with the replay thread. */
    BucketContents contents() {
        return contents;
    }

    /** What the replay thread must record while a rebuild runs, or {@code null} when none runs. */
    @Nullable
    RebuildTracking tracking() {
        return tracking;
    }

    private void runOnce(String reason) throws InterruptedException {
        Projection projection = engine.projection();
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
        generation.rebuildStarted(
                target.id(), forced && stored.isPresent() ? stored.get().id() : null);

        Adopter a = adopter;
        // With a replay thread to adopt the model, buckets are published from the shared content after
        // the adoption (versions allocated before that content is read). Without one, nothing here
        // keeps content current, so the versions are allocated before the load instead: every
        // publish that could race with this one then has a newer version or an older read.
        Set<Bucket> registered = projection.buckets();
        Map<Bucket, Optional<VersionTicket>> early = Map.of();
        RebuildTracking t = new RebuildTracking();
        tracking = t;
        try {
            PoolModel model = newModel();
            List<AccountCard> cards = new ArrayList<>();
            Set<Bucket> all = Set.of();
            long horizon = 0;
            boolean adopted = false;
            int poolAccounts = 0;
            PreparedPool prepared = null;
            Map<Bucket, List<AccountCard>> contents0 = Map.of();
            if (a.replaying()) {
                // The horizon is read first inside the load's snapshot: every transaction below it had
                // finished before any row was read.
                horizon = engine.source().loadPool(new Tee(model, cards));
                all = universe(model, registered);
                contents0 = new LinkedHashMap<>(model.buckets(all));
                prepared = new PreparedPool(model, contents0, t);
                poolAccounts = model.accountCount();
                adopted = handOver(a, prepared);
            }
            if (!adopted) {
                // Nobody took the model: versions first, then a load of its own (see above).
                Set<Long> activeBefore = new TreeSet<>();
                for (GroupInfo g : engine.source().activeGroups()) {
                    activeBefore.add(g.id());
                }
                all = universe(Universe.platforms(engine.source().platforms(), registered), activeBefore, registered);
                early = allocate(projection, all);
                model = newModel();
                cards = new ArrayList<>();
                horizon = engine.source().loadPool(new Tee(model, cards));
                contents0 = new LinkedHashMap<>(model.buckets(all));
                prepared = new PreparedPool(model, contents0, t);
            }
            // Set by the hand-over branch when it was adopted, else by the branch just above.
            PreparedPool pool = Objects.requireNonNull(prepared, "prepared");
            try {
                // An adopted model belongs to the replay thread from the hand-over on: not read here.
                Set<Bucket> live = adopted
                        ? publishFromView(projection, target.id(), pool.contents, poolAccounts)
                        : publishOwn(projection, target.id(), early, contents0, model.activeGroupIds());
                if (!adopted) {
                    // No replay thread here to tell which cards it wrote since the load: the holder is
                    // elsewhere, so the cards are read again right before they are written, keeping the
                    // window in which its newer write could be overwritten as short as a plain rewrite.
                    List<AccountCard> reread = new ArrayList<>();
                    engine.source().loadAllCards(reread::add);
                    cards = reread;
                }
                int written = rewriteCards(projection, cards, t);
                Optional<Lease> lease = leases.held();
                if (lease.isPresent()) {
                    projection.advanceWatermark(lease.get(), horizon);
                    onHorizon.accept(horizon);
                }
                if (fresh) {
                    // The generation is stored last, and storing it declares every snapshot of the run
                    // current. If the store lost the run's writes meanwhile (FLUSHALL, a restart without
                    // persistence), storing it anyway would make this generation current over an empty
                    // store whose version counters start again at 1: the same (generation, version)
                    // would then be handed out again for other content. Fail the run instead; the next
                    // one finds no generation and rebuilds under a new one.
                    Set<Bucket> lost = projection.withoutActiveSnapshot(live);
                    if (!lost.isEmpty()) {
                        throw new IllegalStateException("the projection lost this run's snapshot of "
                                + lost.iterator().next() + " (and " + (lost.size() - 1)
                                + " more) before its generation was stored (flushed?); not storing generation "
                                + target.id());
                    }
                    projection.putGeneration(target, origin.current());
                }
                generation.rebuilt(target.id());
                LOG.info(
                        "full rebuild ({}) done: {} buckets, {} cards{}{}",
                        reason,
                        live.size(),
                        written,
                        fresh ? ", new generation" : "",
                        adopted ? "" : ", no replay to hand over to");
            } catch (RuntimeException e) {
                pool.unpublished.set(true);
                throw e;
            }
        } finally {
            tracking = null;
        }
    }

    /** Streams the pool into the model and keeps every card for the card rewrite. */
    private record Tee(PoolModel model, List<AccountCard> cards) implements PoolSink {
        @Override
        public void group(GroupInfo group) {
            model.group(group);
        }

        @Override
        public void account(AccountCard card) {
            model.account(card);
            cards.add(card);
        }
    }

    private Set<Bucket> universe(PoolModel model, Set<Bucket> registered) {
        return universe(Universe.platforms(model.platforms(), registered), model.activeGroupIds(), registered);
    }

    /** Every registered bucket and every canonical bucket of group 0 and of every active group. */
    private Set<Bucket> universe(Set<String> platforms, Set<Long> active, Set<Bucket> registered) {
        Set<Bucket> all = new LinkedHashSet<>(registered);
        all.addAll(Universe.canonical(0, platforms));
        if (engine.config().runMode() == RunMode.STANDARD) {
            for (long g : active) {
                all.addAll(Universe.canonical(g, platforms));
            }
        }
        return all;
    }

    private PoolModel newModel() {
        return new PoolModel(engine.config().runMode(), engine.config().effectiveGroup0Scope());
    }

    /**
     * Offers the model to the replay thread and waits for it to be taken between two batches; gives up
     * (and takes the offer back) when the replay thread stops or does not poll within twice its poll
     * interval (at least 2 s, at most 30 s): the run then loads again on its own.
     */
    private boolean handOver(Adopter a, PreparedPool prepared) throws InterruptedException {
        a.offer(prepared);
        wakeReplay.run();
        long pollMs = engine.config().scheduling().outboxPollIntervalSeconds() * 2_000L;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.clamp(pollMs, 2_000L, 30_000L));
        while (true) {
            try {
                return prepared.adopted.get(ADOPTION_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if ((!a.replaying() || System.nanoTime() - deadline > 0) && a.withdraw(prepared)) {
                    return prepared.adopted.getNow(false);
                }
            } catch (ExecutionException e) {
                throw new IllegalStateException("adopting the rebuilt model failed: " + e.getCause(), e.getCause());
            }
        }
    }

    private Map<Bucket, Optional<VersionTicket>> allocate(Projection projection, Collection<Bucket> buckets) {
        Map<Bucket, Optional<VersionTicket>> out = new LinkedHashMap<>();
        for (List<Bucket> chunk : chunks(buckets)) {
            out.putAll(projection.allocateVersions(chunk));
        }
        return out;
    }

    /**
     * Publishes every bucket after the replay thread adopted the model: per chunk, versions first, then
     * the content the shared view holds now (see {@link BucketContents}), then one publish. Retire and
     * reopen follow the replay thread's group state, under its lifecycle lock. Buckets whose content must
     * come from the database instead (decision M22: the first publish of each in this process, say) are
     * read after every chunk, all in one read, outside the lock so that replay goes on meanwhile.
     *
     * @param poolAccounts the adopted model's account count, to choose how the database is read
     * @return the buckets that hold a snapshot of this run (or a newer one)
     */
    private Set<Bucket> publishFromView(
            Projection projection, String generation, Map<Bucket, List<AccountCard>> own, int poolAccounts) {
        Set<Bucket> live = new LinkedHashSet<>();
        List<VersionTicket> deferred = new ArrayList<>();
        for (List<Bucket> chunk :
                viewChunks(own.keySet(), b -> own.getOrDefault(b, List.of()).size())) {
            List<Bucket> open = lifecycle(projection, chunk, contents::active);
            // Under the replay thread's lock: allocation, the content read and the publish of a chunk do
            // not interleave with a replay publish, so each sees the other's versions in order.
            contents.lifecycleLock().lock();
            try {
                Map<VersionTicket, List<AccountCard>> batch = new LinkedHashMap<>();
                for (Map.Entry<Bucket, Optional<VersionTicket>> t :
                        projection.allocateVersions(open).entrySet()) {
                    Bucket b = t.getKey();
                    Optional<VersionTicket> ticket = t.getValue().isPresent() ? t.getValue() : reopen(projection, b);
                    if (ticket.isEmpty()) {
                        continue;
                    }
                    if (!contents.modelMayPublish(b, ticket.get().version())) {
                        contents.databasePending(b);
                        deferred.add(ticket.get());
                        continue;
                    }
                    List<AccountCard> now = contents.latest(b);
                    batch.put(ticket.get(), now != null ? now : own.get(b));
                }
                live.addAll(published(projection.publishAll(generation, batch)));
            } finally {
                contents.lifecycleLock().unlock();
            }
        }
        live.addAll(publishDatabaseReads(projection, generation, deferred, poolAccounts));
        return live;
    }

    /**
     * Publishes the buckets of {@code tickets} (allocated earlier by {@link #publishFromView}) from one
     * database read made now. A bucket for which the replay thread allocated a newer version meanwhile is
     * still published (its newer publish wins by version) but its read is not recorded in the shared
     * view, which holds that newer publish's content.
     */
    private Set<Bucket> publishDatabaseReads(
            Projection projection, String generation, List<VersionTicket> tickets, int poolAccounts) {
        if (tickets.isEmpty()) {
            return Set.of();
        }
        Map<VersionTicket, List<AccountCard>> read = DatabaseRead.read(engine, tickets, poolAccounts);
        long covered = DatabaseRead.coveredBelow(engine);
        Set<Bucket> live = new LinkedHashSet<>();
        for (List<VersionTicket> chunk :
                viewChunks(read.keySet(), t -> read.getOrDefault(t, List.of()).size())) {
            Map<VersionTicket, List<AccountCard>> batch = new LinkedHashMap<>();
            contents.lifecycleLock().lock();
            try {
                for (VersionTicket t : chunk) {
                    List<AccountCard> content = Objects.requireNonNull(read.get(t), "content"); // a key of read
                    if (contents.lastAllocated(t.bucket(), t.version())) {
                        contents.databaseRead(t.bucket(), covered, content);
                    }
                    batch.put(t, content);
                }
                live.addAll(published(projection.publishAll(generation, batch)));
            } finally {
                contents.lifecycleLock().unlock();
            }
        }
        return live;
    }

    /** Publishes the run's own content under the versions allocated before the load. */
    private Set<Bucket> publishOwn(
            Projection projection,
            String generation,
            Map<Bucket, Optional<VersionTicket>> early,
            Map<Bucket, List<AccountCard>> own,
            Set<Long> active) {
        Set<Bucket> live = new LinkedHashSet<>();
        for (List<Bucket> chunk : chunks(early.keySet())) {
            List<Bucket> open = lifecycle(projection, chunk, active::contains);
            Map<VersionTicket, List<AccountCard>> batch = new LinkedHashMap<>();
            for (Bucket b : open) {
                // open is a part of early's keys.
                Optional<VersionTicket> ticket = Objects.requireNonNull(early.get(b), "ticket");
                if (ticket.isEmpty()) {
                    // Retired before the load and active now: a ticket allocated after the reopen
                    // comes after the load, so this bucket waits for its next change or run.
                    reopen(projection, b);
                    continue;
                }
                batch.put(ticket.get(), own.getOrDefault(b, List.of()));
            }
            live.addAll(published(projection.publishAll(generation, batch)));
            // Read after these versions were allocated, like any database read: a model publish that
            // follows trusts its own content only once its cursor passed this load (decision M22).
            long covered = DatabaseRead.coveredBelow(engine);
            contents.lifecycleLock().lock();
            try {
                batch.forEach((t, c) -> contents.databasePublished(t.bucket(), t.version(), covered, c));
            } finally {
                contents.lifecycleLock().unlock();
            }
        }
        return live;
    }

    /** Retires the buckets of {@code chunk} whose group is not active; returns the others. */
    private List<Bucket> lifecycle(Projection projection, List<Bucket> chunk, java.util.function.LongPredicate active) {
        List<Bucket> open = new ArrayList<>(chunk.size());
        contents.lifecycleLock().lock();
        try {
            for (Bucket b : chunk) {
                if (engine.lifecycleApplies(b.groupId()) && !active.test(b.groupId())) {
                    projection.retire(b);
                } else {
                    open.add(b);
                }
            }
        } finally {
            contents.lifecycleLock().unlock();
        }
        return open;
    }

    /** Reopens a retired bucket whose group is active (decided under the lifecycle lock). */
    private Optional<VersionTicket> reopen(Projection projection, Bucket b) {
        contents.lifecycleLock().lock();
        try {
            projection.reopen(b);
            return projection.allocateVersion(b);
        } finally {
            contents.lifecycleLock().unlock();
        }
    }

    private static Set<Bucket> published(Map<Bucket, PublishOutcome> outcomes) {
        Set<Bucket> out = new LinkedHashSet<>();
        outcomes.forEach((b, o) -> {
            if (o == PublishOutcome.ACTIVATED || o == PublishOutcome.SUPERSEDED) {
                out.add(b);
            }
            // Retired or fenced: the replay thread retired it meanwhile, from newer group state.
        });
        return out;
    }

    private static List<List<Bucket>> chunks(Collection<Bucket> buckets) {
        return chunks(buckets, BUCKET_CHUNK);
    }

    /**
     * {@code keys} in chunks of at most {@link #VIEW_CHUNK} keys and, unless one key alone has more, fewer
     * than {@link #VIEW_CHUNK_CARDS} cards, {@code cards} giving each key's count (for the shared view's
     * buckets, the run's own content, which differs from the view's by a batch at most).
     */
    static <K> List<List<K>> viewChunks(Collection<K> keys, ToIntFunction<K> cards) {
        List<List<K>> out = new ArrayList<>();
        List<K> cur = new ArrayList<>();
        int sum = 0;
        for (K k : keys) {
            int n = cards.applyAsInt(k);
            if (!cur.isEmpty() && (cur.size() >= VIEW_CHUNK || sum + n >= VIEW_CHUNK_CARDS)) {
                out.add(cur);
                cur = new ArrayList<>();
                sum = 0;
            }
            cur.add(k);
            sum += n;
        }
        if (!cur.isEmpty()) {
            out.add(cur);
        }
        return out;
    }

    private static List<List<Bucket>> chunks(Collection<Bucket> buckets, int size) {
        List<List<Bucket>> out = new ArrayList<>();
        List<Bucket> cur = new ArrayList<>(size);
        for (Bucket b : buckets) {
            cur.add(b);
            if (cur.size() >= size) {
                out.add(cur);
                cur = new ArrayList<>(size);
            }
        }
        if (!cur.isEmpty()) {
            out.add(cur);
        }
        return out;
    }

    /**
     * Writes the card of every live account, in bucket or not, and deletes the cards of accounts that
     * no longer exist (or are soft-deleted): an account that left every bucket while its event was
     * lost (skipped by a fast-forward, dead-lettered, removed from the outbox) has no bucket to be
     * repaired through, and its card is what {@code GET /v1/accounts/{id}} and sticky sessions read.
     * A card the replay thread wrote since the run started is newer than the run's read and is left
     * alone. A card that looks stale is deleted only after a second read confirms the account is gone:
     * it may belong to an account created after the load, whose card the replayer wrote since.
     *
     * @return the number of cards written
     */
    private int rewriteCards(Projection projection, List<AccountCard> cards, RebuildTracking t) {
        Set<Long> live = new HashSet<>();
        int written = 0;
        for (int i = 0; i < cards.size(); i += CARD_BATCH) {
            List<AccountCard> chunk = cards.subList(i, Math.min(cards.size(), i + CARD_BATCH));
            List<AccountCard> mine = new ArrayList<>(chunk.size());
            synchronized (t.cardLock()) {
                for (AccountCard c : chunk) {
                    live.add(c.id());
                    if (!t.cardWritten(c.id())) {
                        mine.add(c);
                    }
                }
                if (!mine.isEmpty()) {
                    projection.putCards(mine);
                }
            }
            written += mine.size();
        }
        Set<Long> stale = new TreeSet<>(projection.cardIds());
        stale.removeAll(live);
        stale.removeIf(t::cardWritten);
        if (!stale.isEmpty()) {
            Map<Long, AccountCard> appeared = engine.source().loadCards(stale);
            synchronized (t.cardLock()) {
                stale.removeIf(t::cardWritten);
                Map<Long, AccountCard> fresh = new LinkedHashMap<>(appeared);
                fresh.keySet().removeIf(t::cardWritten);
                if (!fresh.isEmpty()) {
                    projection.putCards(fresh.values());
                    written += fresh.size();
                }
                stale.removeAll(appeared.keySet());
                projection.deleteCards(stale);
            }
            LOG.info("full rebuild deleted {} cards of accounts that no longer exist", stale.size());
        }
        return written;
    }
}
