package dev.roster.core.replay;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.internal.CurrentGeneration;
import dev.roster.core.internal.Engine;
import dev.roster.core.internal.Universe;
import dev.roster.core.outbox.CursorState;
import dev.roster.core.outbox.OutboxCursor;
import dev.roster.core.outbox.OutboxEvent;
import dev.roster.core.outbox.OutboxPosition;
import dev.roster.core.outbox.OutboxRead;
import dev.roster.core.outbox.OutboxSource;
import dev.roster.core.outbox.OutboxStats;
import dev.roster.core.pool.PoolModel;
import dev.roster.core.projection.Lease;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ProjectionException;
import dev.roster.core.projection.WatermarkOutcome;
import dev.roster.core.source.BatchRead;
import dev.roster.core.source.GroupInfo;
import dev.roster.core.source.SchedulingSource;
import dev.roster.core.source.SourceDefectException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outbox replayer. Only the holder of the replayer lease replays; every call of {@link
 * #pollOnce()} first checks (acquires or renews) the lease, so instances take over from each other
 * without coordination beyond the projection.
 *
 * <p>The holder keeps the scheduling pool in memory ({@link PoolModel}), loaded in bulk when it starts
 * replaying (the cursor then starts at the <em>stored</em> watermark: the previous holder may not have
 * published what it applied). One poll reads one batch together with the rows its events name, in one
 * source call ({@link SchedulingSource#readBatch}), applies the rows to the model, and recomputes the
 * dirty buckets in memory; buckets whose content equals what was last published are left alone, the
 * rest are published in two round trips, and only cards that changed are written (fenced by a lease
 * renewal). The watermark moves (fenced by the lease) only after every bucket of the batch is
 * published. A full rebuild runs on its own thread and hands its freshly loaded model over between two
 * batches (see {@link FullRebuilder}); a batch that names most of the pool becomes one. When the batch fails, it is read again after a
 * back-off ({@code replay.retry_backoff} doubling to {@code replay.retry_backoff_max}); failures that
 * come from the work of particular events (not from an unreachable store) count against those events,
 * and an event that reached {@code replay.max_attempts} is dead-lettered with its error, a full rebuild
 * is requested, and the batch goes on without it. A malformed row is dead-lettered at once. So no row
 * stalls the stream and no event is skipped. Lag and backlog are checked after every poll that saw
 * events, whether the batch succeeded or not.
 *
 * <p>Handlers (the seed's semantics, with Roster's fixes): an account change rewrites the account's
 * card (or deletes it when the account is gone) and rebuilds the buckets of the payload groups and the
 * account's current groups, always including group 0 (whose scope contains the account, or did), for
 * the account's platform and every platform the event says the account had before (so a platform
 * change, or a delete and re-insert of the id, leaves the old platform's buckets; an account event that
 * does not name its platforms counts as naming every platform), plus anthropic and gemini for each
 * antigravity one (so switching the mixed flag off removes it from mixed buckets); bulk and link events
 * do the same per account (link events never change a platform, so they name none); a group change
 * rebuilds every canonical and registered bucket of the group, retiring them when the group is missing,
 * deleted or inactive and reopening them when it is active again (decided from the model); the buckets
 * the model says a changed card was or is in are added; last-used moves the side values
 * forward; {@code full_rebuild} requests a (coalesced) full rebuild; unknown types are counted and
 * skipped.
 *
 * <p>Not thread-safe by itself: the service calls it from one replay thread; tests call it directly.
 */
public final class Replayer {
    private static final Logger LOG = LoggerFactory.getLogger(Replayer.class);
    /** How often an applied batch samples the outbox lag (see {@link #sampleLag}). */
    static final Duration LAG_SAMPLE = Duration.ofSeconds(1);

    /** Fewest accounts a batch must name to be turned into a full rebuild (with half the pool). */
    static final int BULK_MIN = 1_000;

    private final Engine engine;
    private final CurrentGeneration currentGeneration;
    private final OutboxSource outbox;
    private final LeaseKeeper leases;
    private final FullRebuilder rebuilder;
    private final BucketContents contents;
    private final ModelPublisher publisher;
    /** The pool in memory; thread-confined to the polling thread; null while not replaying. */
    private @Nullable PoolModel model;
    /** Cards of named accounts are written whether changed or not while the watermark is below this. */
    private long cardsUnverifiedBelow;

    private final AtomicReference<PreparedPool> offered = new AtomicReference<>();
    private @Nullable PreparedPool lastAdopted;
    private volatile @Nullable Thread pollingThread;
    /** Whether this instance replays with a model now (a rebuild may hand it a new one). */
    private volatile boolean replaying;
    /** Full rebuilds asked for during a batch, requested after it (an inline one may adopt a model). */
    private final List<String> deferredRebuilds = new ArrayList<>();

    private final LagMonitor lag;
    private final GenerationCheck generation;
    private final IntervalRebuild interval;
    private final CompensatingRebuild compensation;
    private final OutboxRetention retention;
    private final EventAttempts attempts;
    private final Backoff batchBackoff;
    private final RowReader rows = new RowReader();

    private @Nullable OutboxCursor cursor;
    /** The cursor as other threads may see it (null when this instance does not replay). */
    private volatile @Nullable CursorState view;
    /** The cursor state last written to the projection, to write only changes. */
    private @Nullable CursorState published;

    private long persistedWatermark = -1;
    private final AtomicLong fastForward = new AtomicLong(-1);
    /**
     * Events still to be read one at a time because a batch-wide step was refused as a defect (0: read
     * whole batches): the defect is charged to the one event whose read or work raises it.
     */
    private int isolating;

    /** When {@link #sampleLag} last read the outbox statistics. */
    private @Nullable Instant lastLagSample;

    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong unknown = new AtomicLong();
    private final AtomicLong bucketRebuilds = new AtomicLong();
    private final AtomicLong failedBatches = new AtomicLong();
    private final AtomicLong interruptedBatches = new AtomicLong();
    private final AtomicLong bulkRebuilds = new AtomicLong();
    private volatile Set<Bucket> lastDirty = Set.of();
    private final AtomicLong modelLoads = new AtomicLong();
    private final AtomicLong adoptions = new AtomicLong();

    // Public only for ServiceAssembly, in another package of this module: the internal Engine in the
    // signature keeps every caller outside the module away, which is the point ("exports" lint).
    @SuppressWarnings("exports")
    public Replayer(
            Engine engine,
            CurrentGeneration currentGeneration,
            OutboxSource outbox,
            LeaseKeeper leases,
            FullRebuilder rebuilder,
            LagMonitor lag,
            DeadLetterSink deadLetters) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.currentGeneration = Objects.requireNonNull(currentGeneration, "currentGeneration");
        this.outbox = Objects.requireNonNull(outbox, "outbox");
        this.leases = Objects.requireNonNull(leases, "leases");
        this.rebuilder = Objects.requireNonNull(rebuilder, "rebuilder");
        this.contents = rebuilder.contents();
        this.publisher = new ModelPublisher(engine, currentGeneration, contents);
        this.lag = Objects.requireNonNull(lag, "lag");
        Objects.requireNonNull(deadLetters, "deadLetters");
        var r = engine.config().replay();
        this.generation = new GenerationCheck(engine, currentGeneration, rebuilder);
        this.interval =
                new IntervalRebuild(rebuilder, engine.config().scheduling().fullRebuildIntervalSeconds());
        this.compensation = new CompensatingRebuild(rebuilder, engine.clock());
        this.retention = new OutboxRetention(outbox, r);
        this.attempts = new EventAttempts(deadLetters, r.maxAttempts(), deferredRebuilds::add);
        this.batchBackoff = new Backoff(r::retryDelay);
        rebuilder.onHorizon(h -> fastForward.accumulateAndGet(h, Math::max));
        rebuilder.adopter(new Adoption());
    }

    /** Polls until caught up, failing or not holding the lease (at most {@code maxPolls} polls). */
    public ReplayStep drain(int maxPolls) {
        ReplayStep s = ReplayStep.MORE;
        for (int i = 0; i < maxPolls && s == ReplayStep.MORE; i++) {
            s = pollOnce();
        }
        return s;
    }

    /** Polls until caught up (see {@link #drain(int)}), at most 10 000 polls. */
    public ReplayStep drain() {
        return drain(10_000);
    }

    /**
     * One replay step, the loop's whole schedule: the lease; as holder, the generation check, the
     * interval rebuild and a failed compensating rebuild when due; then at most one batch (unless a
     * failed one is backing off), and retention after a batch that moved the watermark.
     */
    public ReplayStep pollOnce() {
        pollingThread = Thread.currentThread();
        ReplayStep step = step();
        // Between two batches: a rebuild run inline here may hand its model over.
        List<String> reasons = List.copyOf(deferredRebuilds);
        deferredRebuilds.clear();
        for (String why : reasons) {
            compensation.request(why);
        }
        return step;
    }

    private ReplayStep step() {
        Optional<Lease> held = leases.current();
        if (held.isEmpty()) {
            standBy();
            return ReplayStep.NOT_HOLDER;
        }
        Instant now = engine.clock().instant();
        generation.run(now);
        interval.run(now);
        compensation.retryIfDue(now);
        return replayBatch(held.get(), now);
    }

    /** Not the holder: forget the cursor, and serve the stored generation when it fits. */
    private void standBy() {
        dropCursor();
        // A non-holder also learns here of a generation another instance built, not only when it
        // reads one of its snapshots: one projection read per poll.
        try {
            currentGeneration.adoptStored();
        } catch (ProjectionException e) {
            LOG.debug("stored generation not readable: {}", e.getMessage());
        }
    }

    private ReplayStep replayBatch(Lease lease, Instant now) {
        if (cursor == null && batchBackoff.waiting(now)) {
            return ReplayStep.BACKING_OFF;
        }
        try {
            openCursor();
        } catch (RuntimeException e) {
            if (interrupted(e)) {
                return interrupted();
            }
            failBatch("loading the pool failed: " + e.getMessage(), now);
            return ReplayStep.FAILED;
        }
        adoptOffered();
        if (batchBackoff.waiting(now)) {
            observeLag();
            return ReplayStep.BACKING_OFF;
        }
        OutboxCursor.Batch batch;
        try {
            batch = isolating > 0 ? cursor().next(rows, 1) : cursor().next();
        } catch (SourceDefectException e) {
            return readRefused(lease, e, now);
        } catch (RuntimeException e) {
            if (interrupted(e)) {
                return interrupted();
            }
            failBatch("reading the outbox failed: " + e.getMessage(), now);
            observeLag();
            return ReplayStep.FAILED;
        }
        if (batch.isEmpty()) {
            isolating = 0;
            cursor().acknowledge(batch);
            lag.caughtUp();
            if (!persist(lease)) {
                return ReplayStep.NOT_HOLDER;
            }
            publishCursor();
            return ReplayStep.IDLE;
        }
        return applyBatch(lease, batch, rows.last(), now);
    }

    private ReplayStep applyBatch(Lease lease, OutboxCursor.Batch batch, @Nullable BatchRead read, Instant now) {
        boolean ok;
        try {
            ok = apply(uncovered(batch.events()), read);
        } catch (LeaseLostException e) {
            // The batch outlived the lease: the new holder replays it from the stored watermark.
            dropCursor();
            return ReplayStep.NOT_HOLDER;
        } catch (SourceDefectException e) {
            Optional<Boolean> charged =
                    chargeDefect(batch.events(), "applying the batch was refused: " + e.getMessage());
            if (charged.isEmpty()) {
                return ReplayStep.MORE;
            }
            ok = charged.get();
        } catch (RuntimeException e) {
            if (interrupted(e)) {
                return interrupted();
            }
            LOG.warn("applying an outbox batch failed: {}", e.getMessage(), e);
            ok = false;
        }
        if (!ok) {
            failBatch("batch of " + batch.events().size() + " events not fully applied", now);
            observeLag();
            return ReplayStep.FAILED;
        }
        cursor().acknowledge(batch);
        attempts.acknowledged(batch.events());
        attempts.passed(cursor().watermark());
        if (isolating > 0) {
            isolating = Math.max(0, isolating - batch.events().size());
        }
        batchBackoff.succeeded();
        applied.addAndGet(batch.events().size());
        if (!persist(lease)) {
            return ReplayStep.NOT_HOLDER;
        }
        publishCursor();
        sampleLag(now);
        retention.run(now, cursor().watermark());
        return batch.full() ? ReplayStep.MORE : ReplayStep.CAUGHT_UP;
    }

    /**
     * The batch read (events and the rows they name) was refused as a defect. A read of many events
     * is not retried as it was: the batch is read again one event at a time, so that only the event
     * whose rows cannot be read is charged (and dead-lettered after {@code replay.max_attempts}). A
     * single event is then read without its rows to learn which it is; when even that is refused, the
     * outbox statement itself is broken, no event is to blame and the read backs off like an outage.
     */
    private ReplayStep readRefused(Lease lease, SourceDefectException e, Instant now) {
        int batchSize = engine.config().replay().batchSize();
        if (isolating == 0 && batchSize > 1) {
            isolating = batchSize;
            LOG.warn("reading an outbox batch was refused ({}); reading its events one at a time", e.getMessage());
            return ReplayStep.MORE;
        }
        OutboxCursor.Batch alone;
        try {
            alone = cursor().next(this::readEvents, 1);
        } catch (RuntimeException again) {
            if (interrupted(again)) {
                return interrupted();
            }
            failBatch("reading the outbox was refused (" + again.getMessage() + "); no event to blame", now);
            return ReplayStep.FAILED;
        }
        if (alone.isEmpty()) {
            failBatch("reading one outbox event was refused (" + e.getMessage() + ") but none is pending now", now);
            return ReplayStep.FAILED;
        }
        OutboxEvent guilty = alone.events().getFirst();
        if (attempts.failed(guilty, "reading the rows of " + describe(guilty) + " was refused: " + e.getMessage())) {
            failBatch("reading the rows of " + describe(guilty) + " was refused: " + e.getMessage(), now);
            return ReplayStep.FAILED;
        }
        // Parked: acknowledged like a batch with nothing left to apply.
        isolating = 0;
        return applyBatch(lease, alone, null, now);
    }

    /**
     * A step of the batch as a whole was refused as a defect: with one event left to blame it is
     * charged to it (empty when it must be tried again as a batch of one event first).
     *
     * @return empty to read the batch again one event at a time; otherwise whether the batch is done
     */
    private Optional<Boolean> chargeDefect(List<OutboxEvent> events, String error) {
        List<OutboxEvent> open = new ArrayList<>();
        for (OutboxEvent e : events) {
            if (!attempts.parked(e.id())) {
                open.add(e);
            }
        }
        if (open.size() > 1) {
            isolating = events.size();
            LOG.warn("{}; applying its events one at a time", error);
            return Optional.empty();
        }
        if (open.isEmpty() || attempts.failed(open.getFirst(), error)) {
            return Optional.of(false);
        }
        isolating = 0;
        return Optional.of(true);
    }

    /** The events of one read, without the rows they name (to find the event a defect belongs to). */
    private OutboxRead readEvents(long watermark, Set<Long> excluded, @Nullable OutboxPosition after, int limit) {
        return outbox.read(watermark, withParked(excluded), after, limit);
    }

    private Set<Long> withParked(Set<Long> excluded) {
        Set<Long> parked = attempts.parkedIds();
        if (parked.isEmpty()) {
            return excluded;
        }
        Set<Long> out = new HashSet<>(excluded);
        out.addAll(parked);
        return out;
    }

    /**
     * Reads a batch and the cards of the accounts it names in one call of the source (one snapshot
     * where the source has it), leaving out the events given up on.
     */
    private final class RowReader implements OutboxCursor.Reader {
        private @Nullable BatchRead last;

        @Override
        public OutboxRead read(long watermark, Set<Long> excluded, @Nullable OutboxPosition after, int limit) {
            last = null;
            last = engine.source().readBatch(watermark, withParked(excluded), after, limit);
            return last.outbox();
        }

        @Nullable
        BatchRead last() {
            return last;
        }
    }

    /**
     * The events a full rebuild that finished after this poll began has not covered: an event below
     * its horizon committed before the rebuild read anything, so applying it again is wasted work.
     */
    private List<OutboxEvent> uncovered(List<OutboxEvent> events) {
        long ff = fastForward.get();
        if (ff < 0) {
            return events;
        }
        List<OutboxEvent> out = new ArrayList<>(events.size());
        for (OutboxEvent e : events) {
            if (Long.compareUnsigned(e.txid(), ff) >= 0) {
                out.add(e);
            }
        }
        return out;
    }

    /**
     * Whether {@code e} comes from this thread being interrupted: the service is closing. That is not
     * a failed batch (nothing is wrong with it, and nobody is left to retry it here).
     */
    private static boolean interrupted(Throwable e) {
        if (Thread.currentThread().isInterrupted()) {
            return true;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InterruptedException || t instanceof java.nio.channels.ClosedByInterruptException) {
                return true;
            }
        }
        return false;
    }

    private ReplayStep interrupted() {
        interruptedBatches.incrementAndGet();
        replaying = false;
        // The batch stays unacknowledged: whoever replays next reads it again from the stored watermark.
        LOG.info("replay interrupted (closing) in the middle of a batch; it is left for the next holder");
        Thread.currentThread().interrupt();
        return ReplayStep.INTERRUPTED;
    }

    /** The cursor, while this instance replays ({@link #openCursor} has run under the lease). */
    private OutboxCursor cursor() {
        return Objects.requireNonNull(cursor, "cursor");
    }

    /** The pool model, once loaded (before the cursor opens, or adopted from a rebuild). */
    private PoolModel model() {
        return Objects.requireNonNull(model, "model");
    }

    private void openCursor() {
        if (cursor == null) {
            long start = engine.projection().watermark().value().orElse(0L);
            if (model == null) {
                loadModel();
            }
            cursor = newCursor(start);
            replaying = true;
            persistedWatermark = start;
            batchBackoff.succeeded();
            isolating = 0;
        }
        long ff = fastForward.getAndSet(-1);
        if (ff >= 0 && Long.compareUnsigned(ff, cursor.watermark()) > 0) {
            // A full rebuild covered everything below its horizon.
            cursor = newCursor(ff);
            persistedWatermark = Math.max(persistedWatermark, ff);
        }
    }

    private void dropCursor() {
        dropModel();
        cursor = null;
        view = null;
        published = null;
        persistedWatermark = -1;
    }

    /**
     * Makes the cursor's state visible to other threads of this instance and, when it changed, to
     * other instances through the projection (a failed write is retried after the next batch).
     */
    private void publishCursor() {
        CursorState now = cursor().state();
        view = now;
        if (now.equals(published)) {
            return;
        }
        try {
            engine.projection().putReplayCursor(now);
            published = now;
        } catch (RuntimeException e) {
            LOG.debug("publishing the replay cursor failed: {}", e.getMessage());
        }
    }

    private OutboxCursor newCursor(long watermark) {
        var r = engine.config().replay();
        return new OutboxCursor(outbox, rows, watermark, r.maxApplied(), r.batchSize());
    }

    private void failBatch(String what, Instant now) {
        failedBatches.incrementAndGet();
        Duration d = batchBackoff.failed(now);
        LOG.warn("{}; retrying in {} ms (failure {})", what, d.toMillis(), batchBackoff.failures());
    }

    /** Moves the stored watermark to the cursor's; false when the lease turned out to be lost. */
    private boolean persist(Lease lease) {
        long w = cursor().watermark();
        if (w == persistedWatermark) {
            return true;
        }
        try {
            WatermarkOutcome o = engine.projection().advanceWatermark(lease, w);
            if (o == WatermarkOutcome.FENCED) {
                LOG.warn("watermark write fenced: the replayer lease was lost");
                leases.lost();
                dropCursor();
                return false;
            }
            persistedWatermark = w;
        } catch (RuntimeException e) {
            // The batch is applied; the next poll writes the watermark again (re-applying is harmless).
            LOG.warn("watermark write failed: {}", e.getMessage());
        }
        return true;
    }

    /**
     * After an applied batch: the outbox statistics are read at most once per {@link #LAG_SAMPLE}
     * (decision E11) while nothing is parked. Their statement counts every pending row, so reading them
     * after every batch of a backlog drain or a storm cost about as much as the batch; the monitor's
     * thresholds are seconds and its consecutive-observation count was meant for one-second polls.
     * Failed batches and parked events are observed every time (that is when an episode builds up).
     */
    private void sampleLag(Instant now) {
        if (lastLagSample != null
                && now.isBefore(lastLagSample.plus(LAG_SAMPLE))
                && attempts.parkedIds().isEmpty()) {
            return;
        }
        lastLagSample = now;
        observeLag();
    }

    private void observeLag() {
        try {
            OutboxStats s = cursor().stats();
            lag.observe(s.pending(), s.lag());
        } catch (RuntimeException e) {
            LOG.debug("outbox stats unavailable: {}", e.getMessage());
        }
    }

    // ---- applying a batch ---------------------------------------------------------------------

    /**
     * Applies {@code events} with the rows they name: the rows go into the model, the dirty buckets are
     * recomputed from it and published when their content changed, and the cards that changed are
     * written. True when every event is applied or parked in the dead-letter sink.
     */
    private boolean apply(List<OutboxEvent> events, @Nullable BatchRead rows) {
        BatchPlan plan = new BatchPlan(model(), engine.config().runMode(), engine.projection()::buckets);
        Map<Long, String> eventFailures = new LinkedHashMap<>();
        List<OutboxEvent> open = new ArrayList<>(events.size());
        for (OutboxEvent e : events) {
            if (!attempts.parked(e.id())) {
                open.add(e);
            }
        }
        Set<Long> accountIds = SchedulingSource.namedAccounts(open);
        Set<Long> groupIds = SchedulingSource.namedGroups(open);
        RebuildTracking tracking = rebuilder.tracking();
        if (tracking != null) {
            // Read after the rebuild began tracking, so possibly newer than its load: re-read on adoption.
            tracking.named(accountIds, groupIds);
        }
        Map<Long, AccountCard> cards = rows == null ? Map.of() : rows.accounts();
        if (bulk(accountIds)) {
            // Most of the pool: a full rebuild (which reloads it in bulk) is cheaper than the rows, and
            // it reads after this batch was read, so it covers it. Last-used values still move here.
            LOG.info(
                    "a batch names {} of {} accounts: full rebuild instead of applying its rows",
                    accountIds.size(),
                    model().accountCount());
            for (OutboxEvent e : open) {
                if (e instanceof OutboxEvent.AccountLastUsed) {
                    plan.add(e, cards, unknown);
                }
            }
            plan.fullRebuilds.add("bulk");
            bulkRebuilds.incrementAndGet();
            accountIds = Set.of();
            groupIds = Set.of();
        } else {
            for (OutboxEvent e : open) {
                try {
                    plan.add(e, cards, unknown);
                } catch (RuntimeException ex) {
                    if (Engine.isInfrastructure(ex)) {
                        throw ex;
                    }
                    eventFailures.put(e.id(), "handling " + describe(e) + " failed: " + ex);
                }
            }
        }
        Map<Long, GroupInfo> groups = rows == null ? Map.of() : rows.groups();
        List<PoolModel.AccountChange> changes = model().apply(accountIds, cards, groupIds, groups);
        Set<Long> changed = new HashSet<>();
        Set<Bucket> touched = new LinkedHashSet<>();
        for (PoolModel.AccountChange c : changes) {
            changed.add(c.accountId());
            Set<Long> by = plan.eventsOfAccount.getOrDefault(c.accountId(), Set.of());
            Set<Bucket> before = model().bucketsOf(c.before());
            Set<Bucket> after = model().bucketsOf(c.after());
            plan.dirty(before, by);
            plan.dirty(after, by);
            touched.addAll(before);
            touched.addAll(after);
        }
        publisher.modelChanged(touched);
        // Right after a load nothing is known about the stored cards: the previous holder may not have
        // written the ones its last batches changed, so every named card is written until the cursor
        // passes the load's horizon. After that only cards that changed are.
        if (Long.compareUnsigned(cursor().watermark(), cardsUnverifiedBelow) >= 0) {
            plan.put.keySet().retainAll(changed);
            plan.delete.retainAll(changed);
        }
        writeCards(plan, tracking);
        lastDirty = Set.copyOf(plan.dirty);
        contents.watermark(cursor().watermark());
        int n = publisher.publish(model(), plan.dirty, !groupIds.isEmpty());
        bucketRebuilds.addAndGet(n);
        publisher.failed().forEach((b, err) -> {
            LOG.warn("publishing {} failed: {}", b, err.toString());
            for (long id : plan.eventsDirtying(b)) {
                eventFailures.merge(id, "publishing " + b + " failed: " + err, (x, y) -> x);
            }
        });
        deferredRebuilds.addAll(plan.fullRebuilds);
        boolean pending = false;
        for (OutboxEvent e : events) {
            String err = eventFailures.get(e.id());
            if (err != null && attempts.failed(e, err)) {
                pending = true;
            }
        }
        return !pending;
    }

    /** Whether a batch naming {@code accountIds} is better served by a full rebuild (decision E5). */
    private boolean bulk(Set<Long> accountIds) {
        return accountIds.size() >= BULK_MIN && accountIds.size() * 2L >= model().accountCount();
    }

    private void writeCards(BatchPlan plan, @Nullable RebuildTracking tracking) {
        if (plan.delete.isEmpty() && plan.put.isEmpty() && plan.lastUsed.isEmpty()) {
            return;
        }
        // The reads above may have outlived the lease (a slow query, a pause): a new holder may have
        // written newer cards meanwhile, and card writes carry no version to refuse older ones. So the
        // lease is renewed first; once it is, nobody else can hold it for a full TTL. Snapshots need
        // no such check (their versions are allocated before the read), nor does the watermark
        // (fenced by the lease).
        if (!leases.confirm()) {
            throw new LeaseLostException();
        }
        Projection projection = engine.projection();
        Object lock = tracking == null ? this : tracking.cardLock();
        synchronized (lock) {
            if (tracking != null) {
                tracking.wroteCards(plan.delete);
                tracking.wroteCards(plan.put.keySet());
            }
            if (!plan.delete.isEmpty()) {
                projection.deleteCards(plan.delete);
            }
            if (!plan.put.isEmpty()) {
                projection.putCards(plan.put.values());
            }
        }
        if (!plan.lastUsed.isEmpty()) {
            projection.markUsed(plan.lastUsed);
        }
    }

    // ---- the model: load, adoption ------------------------------------------------------------

    /** Loads the model in bulk (start, new lease); nothing is known to be published yet. */
    private void loadModel() {
        PoolModel m = new PoolModel(engine.config().runMode(), engine.config().effectiveGroup0Scope());
        long horizon = engine.source().loadPool(m);
        model = m;
        cardsUnverifiedBelow = horizon;
        publisher.forget();
        contents.replaceAll(Map.of(), m.activeGroupIds());
        modelLoads.incrementAndGet();
    }

    private void dropModel() {
        model = null;
        replaying = false;
        publisher.forget();
        contents.clear();
        PreparedPool p = offered.getAndSet(null);
        if (p != null) {
            p.adopted.complete(false);
        }
    }

    /** Adopts a model a full rebuild offered, if any (called between two batches). */
    private void adoptOffered() {
        PreparedPool last = lastAdopted;
        if (last != null && last.unpublished.get()) {
            // The rebuild that was to publish the adopted content failed: publish every dirty bucket.
            publisher.forget();
            lastAdopted = null;
        }
        PreparedPool p = offered.getAndSet(null);
        if (p != null) {
            adopt(p);
        }
    }

    private void adopt(PreparedPool p) {
        try {
            if (model != null) {
                catchUp(p);
            }
        } catch (RuntimeException e) {
            LOG.warn("adopting the rebuilt model failed: {}", e.getMessage());
            p.adopted.complete(false);
            return;
        }
        model = p.model;
        cardsUnverifiedBelow = 0;
        contents.replaceAll(p.contents, model.activeGroupIds());
        publisher.assume(p.contents);
        lastAdopted = p;
        adoptions.incrementAndGet();
        p.adopted.complete(true);
    }

    /**
     * Brings the rebuilt model up to what this thread's batches read since the rebuild started: those
     * rows may be newer than the rebuild's load, so they are read again (fresh) and the buckets they
     * touch are recomputed.
     */
    private void catchUp(PreparedPool p) {
        Set<Long> accounts = new TreeSet<>(p.tracking.namedAccounts());
        Set<Long> groups = new TreeSet<>(p.tracking.namedGroups());
        if (accounts.isEmpty() && groups.isEmpty()) {
            return;
        }
        Map<Long, AccountCard> found =
                accounts.isEmpty() ? Map.of() : engine.source().loadCards(accounts);
        Map<Long, GroupInfo> foundGroups = new HashMap<>();
        if (!groups.isEmpty()) {
            for (GroupInfo g : engine.source().activeGroups()) {
                if (groups.contains(g.id())) {
                    foundGroups.put(g.id(), g);
                }
            }
        }
        PoolModel m = p.model;
        if (!accounts.isEmpty()) {
            // This read may be newer than both the rebuild's load and this thread's card writes, and
            // the adopted model will only write cards it sees change: so these cards are written now
            // (and the rebuild, which skips what this thread wrote, leaves them alone).
            BatchPlan plan = new BatchPlan(model(), engine.config().runMode(), engine.projection()::buckets);
            for (long id : accounts) {
                AccountCard c = found.get(id);
                if (c == null) {
                    plan.delete.add(id);
                } else {
                    plan.put.put(id, c);
                }
            }
            writeCards(plan, p.tracking);
        }
        Set<Bucket> dirty = new LinkedHashSet<>();
        for (PoolModel.AccountChange c : m.apply(accounts, found, groups, foundGroups)) {
            dirty.addAll(m.bucketsOf(c.before()));
            dirty.addAll(m.bucketsOf(c.after()));
        }
        if (!groups.isEmpty()) {
            Set<String> platforms = Universe.platforms(m.platforms(), p.contents.keySet());
            for (long g : groups) {
                dirty.addAll(Universe.canonical(
                        Universe.normalizeGroup(g, engine.config().runMode()), platforms));
            }
        }
        p.contents.putAll(m.buckets(dirty));
    }

    /** The replay thread's side of the hand-over of rebuilt models. */
    private final class Adoption implements FullRebuilder.Adopter {
        @Override
        public boolean replaying() {
            Thread t = pollingThread;
            return replaying && t != null && t.isAlive() && !t.isInterrupted();
        }

        @Override
        public void offer(PreparedPool pool) {
            if (Thread.currentThread() == pollingThread) {
                // A rebuild run inline by a poll, between two batches: adopt at once.
                adopt(pool);
                return;
            }
            PreparedPool older = offered.getAndSet(pool);
            if (older != null) {
                older.adopted.complete(false);
            }
        }

        @Override
        public boolean withdraw(PreparedPool pool) {
            if (offered.compareAndSet(pool, null)) {
                pool.adopted.complete(false);
                return true;
            }
            return pool.adopted.isDone();
        }
    }

    private static String describe(OutboxEvent e) {
        return e.getClass().getSimpleName() + " #" + e.id();
    }

    /** The replayer lease was found lost in the middle of a batch, before its card writes. */
    static final class LeaseLostException extends RuntimeException {
        LeaseLostException() {
            super("replayer lease lost during a batch", null, false, false);
        }
    }

    /** A malformed row: it can never succeed, so it is parked at once. */
    static final class MalformedEventException extends RuntimeException {
        MalformedEventException(@Nullable String reason) {
            super("malformed outbox row: " + reason, null, false, false);
        }
    }

    // ---- state for tests and metrics ----------------------------------------------------------

    /** Events applied (or parked) in acknowledged batches. */
    public long applied() {
        return applied.get();
    }

    /** Events of unknown type skipped. */
    public long unknown() {
        return unknown.get();
    }

    /** Events dead-lettered. */
    public long deadLettered() {
        return attempts.deadLettered();
    }

    /**
     * The buckets the last applied batch recomputed from the model (each published only when its
     * content changed, or retired): what the batch's events were found to affect.
     */
    public Set<Bucket> lastDirty() {
        return lastDirty;
    }

    /** Bulk loads of the model by the replay thread (start, new lease). */
    public long modelLoads() {
        return modelLoads.get();
    }

    /** Models adopted from full rebuilds. */
    public long adoptions() {
        return adoptions.get();
    }

    /** Batches that named most of the pool and became a full rebuild. */
    public long bulkRebuilds() {
        return bulkRebuilds.get();
    }

    /** Batches that failed and were (or will be) retried after a back-off. */
    public long failedBatches() {
        return failedBatches.get();
    }

    /** Batches left unacknowledged because the replay thread was interrupted (the service closed). */
    public long interruptedBatches() {
        return interruptedBatches.get();
    }

    /** Bucket rebuilds attempted by replayed batches. */
    public long bucketRebuilds() {
        return bucketRebuilds.get();
    }

    /**
     * This instance's replay cursor (watermark and applied ids) as of its last poll, or empty when
     * it does not hold the replayer lease. Safe to call from any thread.
     */
    public Optional<CursorState> cursorState() {
        return Optional.ofNullable(view);
    }

    /** The cursor's watermark, or -1 when this instance does not replay. */
    public long watermark() {
        return cursor == null ? -1 : cursor.watermark();
    }

    /** The time of the next retry of a failed batch, or {@code null}. */
    public @Nullable Instant retryAt() {
        return batchBackoff.retryAt();
    }

    /** How often the event was tried without success so far (0 when never failed or done). */
    public int attempts(long eventId) {
        return attempts.attempts(eventId);
    }

    /** The lag monitor. */
    public LagMonitor lagMonitor() {
        return lag;
    }
}
