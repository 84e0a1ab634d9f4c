package dev.roster.core.replay;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Platforms;
import dev.roster.core.internal.Engine;
import dev.roster.core.internal.Universe;
import dev.roster.core.outbox.CursorState;
import dev.roster.core.outbox.OutboxCursor;
import dev.roster.core.outbox.OutboxEvent;
import dev.roster.core.outbox.OutboxPosition;
import dev.roster.core.outbox.OutboxRead;
import dev.roster.core.outbox.OutboxSource;
import dev.roster.core.outbox.OutboxStats;
import dev.roster.core.projection.Lease;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.WatermarkOutcome;
import dev.roster.core.source.BatchRead;
import dev.roster.core.source.GroupInfo;
import dev.roster.core.source.SourceDefectException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
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

/**
 * The outbox replayer. Only the holder of the replayer lease replays; every call of {@link
 * #pollOnce()} first checks (acquires or renews) the lease, so instances take over from each other
 * without coordination beyond the projection.
 *
 * <p>One poll reads one batch and turns it into a set of dirty buckets plus card writes; each dirty
 * bucket is rebuilt once, with bounded parallelism. The watermark moves (fenced by the lease) only
 * after every bucket of the batch is published. When the batch fails, it is read again after a
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
 * deleted or inactive and reopening them when it is active again; last-used moves the side values
 * forward; {@code full_rebuild} requests a (coalesced) full rebuild; unknown types are counted and
 * skipped.
 *
 * <p>Not thread-safe by itself: the service calls it from one replay thread; tests call it directly.
 */
public final class Replayer {
    private static final System.Logger LOG = System.getLogger(Replayer.class.getName());

    private final Engine engine;
    private final OutboxSource outbox;
    private final LeaseKeeper leases;
    private final LagMonitor lag;
    private final GenerationCheck generation;
    private final IntervalRebuild interval;
    private final CompensatingRebuild compensation;
    private final OutboxRetention retention;
    private final EventAttempts attempts;
    private final Backoff batchBackoff;
    private final RowReader rows = new RowReader();

    private OutboxCursor cursor;
    /** The cursor as other threads may see it (null when this instance does not replay). */
    private volatile CursorState view;
    /** The cursor state last written to the projection, to write only changes. */
    private CursorState published;

    private long persistedWatermark = -1;
    private final AtomicLong fastForward = new AtomicLong(-1);
    /**
     * Events still to be read one at a time because a batch-wide step was refused as a defect (0: read
     * whole batches): the defect is charged to the one event whose read or work raises it.
     */
    private int isolating;

    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong unknown = new AtomicLong();
    private final AtomicLong bucketRebuilds = new AtomicLong();
    private final AtomicLong failedBatches = new AtomicLong();
    private final AtomicLong interruptedBatches = new AtomicLong();

    public Replayer(
            Engine engine,
            OutboxSource outbox,
            LeaseKeeper leases,
            FullRebuilder rebuilder,
            LagMonitor lag,
            DeadLetterSink deadLetters) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.outbox = Objects.requireNonNull(outbox, "outbox");
        this.leases = Objects.requireNonNull(leases, "leases");
        Objects.requireNonNull(rebuilder, "rebuilder");
        this.lag = Objects.requireNonNull(lag, "lag");
        Objects.requireNonNull(deadLetters, "deadLetters");
        var r = engine.config().replay();
        this.generation = new GenerationCheck(engine, rebuilder);
        this.interval =
                new IntervalRebuild(rebuilder, engine.config().scheduling().fullRebuildIntervalSeconds());
        this.compensation = new CompensatingRebuild(rebuilder, engine.clock());
        this.retention = new OutboxRetention(outbox, r);
        this.attempts = new EventAttempts(deadLetters, r.maxAttempts(), compensation::request);
        this.batchBackoff = new Backoff(r::retryDelay);
        rebuilder.onHorizon(h -> fastForward.accumulateAndGet(h, Math::max));
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
        if (!engine.ready()) {
            engine.adoptStoredGeneration();
        }
    }

    private ReplayStep replayBatch(Lease lease, Instant now) {
        openCursor();
        if (batchBackoff.waiting(now)) {
            observeLag();
            return ReplayStep.BACKING_OFF;
        }
        OutboxCursor.Batch batch;
        try {
            batch = isolating > 0 ? cursor.next(rows, 1) : cursor.next();
        } catch (SourceDefectException e) {
            return readRefused(lease, e, now);
        } catch (RuntimeException e) {
            if (interrupted(e)) {
                return interrupted();
            }
            failBatch("reading the outbox failed: " + e.getMessage(), now);
            return ReplayStep.FAILED;
        }
        if (batch.isEmpty()) {
            isolating = 0;
            cursor.acknowledge(batch);
            lag.caughtUp();
            if (!persist(lease)) {
                return ReplayStep.NOT_HOLDER;
            }
            publishCursor();
            return ReplayStep.IDLE;
        }
        return applyBatch(lease, batch, rows.cards(), now);
    }

    private ReplayStep applyBatch(Lease lease, OutboxCursor.Batch batch, Map<Long, AccountCard> cards, Instant now) {
        boolean ok;
        engine.applyLock().lock();
        try {
            ok = apply(batch.events(), cards);
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
            LOG.log(Level.WARNING, "applying an outbox batch failed: " + e.getMessage(), e);
            ok = false;
        } finally {
            engine.applyLock().unlock();
        }
        if (!ok) {
            failBatch("batch of " + batch.events().size() + " events not fully applied", now);
            observeLag();
            return ReplayStep.FAILED;
        }
        cursor.acknowledge(batch);
        attempts.acknowledged(batch.events());
        attempts.passed(cursor.watermark());
        if (isolating > 0) {
            isolating = Math.max(0, isolating - batch.events().size());
        }
        batchBackoff.succeeded();
        applied.addAndGet(batch.events().size());
        if (!persist(lease)) {
            return ReplayStep.NOT_HOLDER;
        }
        publishCursor();
        observeLag();
        retention.run(now, cursor.watermark());
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
            LOG.log(
                    Level.WARNING,
                    "reading an outbox batch was refused (" + e.getMessage() + "); reading its events one at a time");
            return ReplayStep.MORE;
        }
        OutboxCursor.Batch alone;
        try {
            alone = cursor.next(this::readEvents, 1);
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
        return applyBatch(lease, alone, Map.of(), now);
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
            LOG.log(Level.WARNING, error + "; applying its events one at a time");
            return Optional.empty();
        }
        if (open.isEmpty() || attempts.failed(open.getFirst(), error)) {
            return Optional.of(false);
        }
        isolating = 0;
        return Optional.of(true);
    }

    /** The events of one read, without the rows they name (to find the event a defect belongs to). */
    private OutboxRead readEvents(long watermark, Set<Long> excluded, OutboxPosition after, int limit) {
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
        private Map<Long, AccountCard> cards = Map.of();

        @Override
        public OutboxRead read(long watermark, Set<Long> excluded, OutboxPosition after, int limit) {
            cards = Map.of();
            BatchRead read = engine.source().readBatch(watermark, withParked(excluded), after, limit);
            cards = read.accounts();
            return read.outbox();
        }

        Map<Long, AccountCard> cards() {
            return cards;
        }
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
        // The batch stays unacknowledged: whoever replays next reads it again from the stored watermark.
        LOG.log(Level.INFO, "replay interrupted (closing) in the middle of a batch; it is left for the next holder");
        Thread.currentThread().interrupt();
        return ReplayStep.INTERRUPTED;
    }

    private void openCursor() {
        if (cursor == null) {
            long start = engine.projection().watermark().value().orElse(0L);
            cursor = newCursor(start);
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
        CursorState now = cursor.state();
        view = now;
        if (now.equals(published)) {
            return;
        }
        try {
            engine.projection().putReplayCursor(now);
            published = now;
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, "publishing the replay cursor failed: " + e.getMessage());
        }
    }

    private OutboxCursor newCursor(long watermark) {
        var r = engine.config().replay();
        return new OutboxCursor(outbox, rows, watermark, r.maxApplied(), r.batchSize());
    }

    private void failBatch(String what, Instant now) {
        failedBatches.incrementAndGet();
        Duration d = batchBackoff.failed(now);
        LOG.log(
                Level.WARNING,
                what + "; retrying in " + d.toMillis() + " ms (failure " + batchBackoff.failures() + ")");
    }

    /** Moves the stored watermark to the cursor's; false when the lease turned out to be lost. */
    private boolean persist(Lease lease) {
        long w = cursor.watermark();
        if (w == persistedWatermark) {
            return true;
        }
        try {
            WatermarkOutcome o = engine.projection().advanceWatermark(lease, w);
            if (o == WatermarkOutcome.FENCED) {
                LOG.log(Level.WARNING, "watermark write fenced: the replayer lease was lost");
                leases.lost();
                dropCursor();
                return false;
            }
            persistedWatermark = w;
        } catch (RuntimeException e) {
            // The batch is applied; the next poll writes the watermark again (re-applying is harmless).
            LOG.log(Level.WARNING, "watermark write failed: " + e.getMessage());
        }
        return true;
    }

    private void observeLag() {
        try {
            OutboxStats s = cursor.stats();
            lag.observe(s.pending(), s.lag());
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, "outbox stats unavailable: " + e.getMessage());
        }
    }

    // ---- applying a batch ---------------------------------------------------------------------

    /** The effects of a batch: card writes and dirty buckets with the events that dirtied them. */
    private final class Plan {
        final Map<Long, AccountCard> put = new LinkedHashMap<>();
        final Set<Long> delete = new TreeSet<>();
        final Map<Long, Instant> lastUsed = new HashMap<>();
        final Map<Bucket, Set<Long>> dirty = new LinkedHashMap<>();
        final Set<String> fullRebuilds = new LinkedHashSet<>();
        Set<String> allPlatforms;
        Set<Bucket> registered;

        void dirty(Bucket b, long eventId) {
            dirty.computeIfAbsent(b, k -> new TreeSet<>()).add(eventId);
        }

        Set<String> allPlatforms() {
            if (allPlatforms == null) {
                allPlatforms = Universe.platforms(engine.source().platforms(), registered());
            }
            return allPlatforms;
        }

        Set<Bucket> registered() {
            if (registered == null) {
                registered = engine.projection().buckets();
            }
            return registered;
        }
    }

    /**
     * Applies {@code events} with the cards of the accounts they name; true when every event is applied
     * or parked in the dead-letter sink.
     */
    private boolean apply(List<OutboxEvent> events, Map<Long, AccountCard> cards) {
        Plan plan = new Plan();
        Map<Long, String> eventFailures = new LinkedHashMap<>();
        for (OutboxEvent e : events) {
            if (attempts.parked(e.id())) {
                continue;
            }
            try {
                translate(e, cards, plan);
            } catch (RuntimeException ex) {
                if (Engine.isInfrastructure(ex)) {
                    throw ex;
                }
                eventFailures.put(e.id(), "handling " + describe(e) + " failed: " + ex);
            }
        }
        Projection projection = engine.projection();
        // The reads above may have outlived the lease (a slow query, a pause): a new holder may have
        // written newer cards meanwhile, and card writes carry no version to refuse older ones. So the
        // lease is renewed first; once it is, nobody else can hold it for a full TTL. Snapshots need
        // no such check (their versions are allocated before the read), nor does the watermark
        // (fenced by the lease).
        if ((!plan.delete.isEmpty() || !plan.put.isEmpty() || !plan.lastUsed.isEmpty()) && !leases.confirm()) {
            throw new LeaseLostException();
        }
        if (!plan.delete.isEmpty()) {
            projection.deleteCards(plan.delete);
        }
        if (!plan.put.isEmpty()) {
            projection.putCards(plan.put.values());
        }
        if (!plan.lastUsed.isEmpty()) {
            projection.markUsed(plan.lastUsed);
        }
        boolean infrastructure = false;
        if (!plan.dirty.isEmpty()) {
            Set<Long> active = activeGroupIds(plan.dirty.keySet());
            Map<Bucket, Engine.Result> results = engine.rebuildAll(plan.dirty.keySet(), active);
            bucketRebuilds.addAndGet(results.size());
            for (Map.Entry<Bucket, Engine.Result> r : results.entrySet()) {
                Throwable err = r.getValue().error();
                if (err == null) {
                    continue;
                }
                if (interrupted(err)) {
                    throw new IllegalStateException("interrupted while rebuilding " + r.getKey(), err);
                }
                LOG.log(Level.WARNING, "rebuilding " + r.getKey() + " failed: " + err);
                if (Engine.isInfrastructure(err)) {
                    infrastructure = true;
                } else {
                    for (long id : plan.dirty.get(r.getKey())) {
                        eventFailures.merge(id, "rebuilding " + r.getKey() + " failed: " + err, (a, b) -> a);
                    }
                }
            }
        }
        for (String why : plan.fullRebuilds) {
            compensation.request(why);
        }
        boolean pending = infrastructure;
        for (OutboxEvent e : events) {
            String err = eventFailures.get(e.id());
            if (err != null && attempts.failed(e, err)) {
                pending = true;
            }
        }
        return !pending;
    }

    private Set<Long> activeGroupIds(Collection<Bucket> buckets) {
        boolean needed = false;
        for (Bucket b : buckets) {
            needed |= engine.lifecycleApplies(b.groupId());
        }
        if (!needed) {
            return Set.of();
        }
        Set<Long> ids = new HashSet<>();
        for (GroupInfo g : engine.source().activeGroups()) {
            ids.add(g.id());
        }
        return ids;
    }

    private void translate(OutboxEvent e, Map<Long, AccountCard> cards, Plan plan) {
        switch (e) {
            case OutboxEvent.AccountChanged a ->
                account(a.id(), a.accountId(), cards, a.groupIds(), formerPlatforms(a.platforms(), plan), plan);
            case OutboxEvent.AccountGroupsChanged a -> {
                // A links statement never changes an account's platform: the card's platform is all.
                for (long id : a.accountIds()) {
                    account(a.id(), id, cards, a.groupIds(), Set.of(), plan);
                }
            }
            case OutboxEvent.AccountBulkChanged a -> {
                Set<String> former = formerPlatforms(a.platforms(), plan);
                for (long id : a.accountIds()) {
                    account(a.id(), id, cards, a.groupIds(), former, plan);
                }
            }
            case OutboxEvent.GroupChanged g -> group(g, plan);
            case OutboxEvent.AccountLastUsed u ->
                u.lastUsed().forEach((id, at) -> {
                    if (id > 0 && at.getEpochSecond() > 0) {
                        plan.lastUsed.merge(id, at, (x, y) -> x.isAfter(y) ? x : y);
                    }
                });
            case OutboxEvent.FullRebuild f -> plan.fullRebuilds.add("outbox");
            case OutboxEvent.Unknown u -> {
                unknown.incrementAndGet();
                LOG.log(Level.INFO, "skipping outbox event " + u.id() + " of unknown type '" + u.eventType() + "'");
            }
            case OutboxEvent.Malformed m -> throw new MalformedEventException(m.reason());
        }
    }

    /**
     * The platforms whose buckets an account event may have taken accounts out of: the event's old ∪
     * new platforms with the mixed platforms an antigravity account can appear in, or every platform
     * when the event does not say (rows written before capture named them, or by another writer).
     */
    private static Set<String> formerPlatforms(List<String> stated, Plan plan) {
        if (stated == null) {
            return plan.allPlatforms();
        }
        Set<String> out = new LinkedHashSet<>();
        for (String p : stated) {
            out.addAll(bucketPlatforms(p));
        }
        return out;
    }

    /** The platforms of the buckets an account of {@code platform} can be listed in. */
    private static List<String> bucketPlatforms(String platform) {
        return Platforms.ANTIGRAVITY.equals(platform)
                ? List.of(platform, Platforms.ANTHROPIC, Platforms.GEMINI)
                : List.of(platform);
    }

    private void account(
            long eventId,
            long accountId,
            Map<Long, AccountCard> cards,
            List<Long> payload,
            Set<String> formerPlatforms,
            Plan plan) {
        if (accountId <= 0) {
            return;
        }
        AccountCard card = cards.get(accountId);
        List<Long> groups = new ArrayList<>(payload);
        // The reloaded card says where the account is now; the event says where it may have been.
        Collection<String> platforms = new LinkedHashSet<>(formerPlatforms);
        if (card == null) {
            plan.put.remove(accountId);
            plan.delete.add(accountId);
            // The seed's rule, kept: a vanished account is rebuilt on every platform.
            platforms = plan.allPlatforms();
        } else {
            plan.delete.remove(accountId);
            plan.put.put(accountId, card);
            card.groups().forEach(l -> groups.add(l.groupId()));
            platforms.addAll(bucketPlatforms(card.platform()));
        }
        Set<Long> gids = new LinkedHashSet<>(
                Universe.normalizeGroups(groups, engine.config().runMode()));
        // Group 0 holds every account of the platform (scope all) or the ungrouped ones, which a link
        // change moves in or out of: its buckets are always affected (the seed's gap, upstream §10).
        gids.add(0L);
        for (long g : gids) {
            for (String p : platforms) {
                for (Bucket b : Universe.canonical(g, p)) {
                    plan.dirty(b, eventId);
                }
            }
        }
    }

    private void group(OutboxEvent.GroupChanged e, Plan plan) {
        for (long g : e.groupIds()) {
            long target = Universe.normalizeGroup(g, engine.config().runMode());
            if (g <= 0) {
                continue;
            }
            for (Bucket b : Universe.canonical(target, plan.allPlatforms())) {
                plan.dirty(b, e.id());
            }
            if (target > 0) {
                for (Bucket b : plan.registered()) {
                    if (b.groupId() == target) {
                        plan.dirty(b, e.id());
                    }
                }
            }
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
        MalformedEventException(String reason) {
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
    public Instant retryAt() {
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
