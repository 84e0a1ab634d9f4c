package dev.roster.core.replay;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Platforms;
import dev.roster.core.internal.CurrentGeneration;
import dev.roster.core.internal.Engine;
import dev.roster.core.internal.Universe;
import dev.roster.core.outbox.CursorState;
import dev.roster.core.outbox.OutboxCursor;
import dev.roster.core.outbox.OutboxEvent;
import dev.roster.core.outbox.OutboxSource;
import dev.roster.core.outbox.OutboxStats;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.Lease;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ProjectionException;
import dev.roster.core.projection.StoreOrigin;
import dev.roster.core.projection.WatermarkOutcome;
import dev.roster.core.service.DeadLetterSink;
import dev.roster.core.source.GroupInfo;
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
    private final CurrentGeneration generation;
    private final OutboxSource outbox;
    private final LeaseKeeper leases;
    private final FullRebuilder rebuilder;
    private final LagMonitor lag;
    private final DeadLetterSink deadLetters;

    private OutboxCursor cursor;
    /** The cursor as other threads may see it (null when this instance does not replay). */
    private volatile CursorState view;
    /** The cursor state last written to the projection, to write only changes. */
    private CursorState published;

    private long persistedWatermark = -1;
    private final AtomicLong fastForward = new AtomicLong(-1);
    private final Map<Long, Integer> attempts = new HashMap<>();
    private final Map<Long, String> lastErrors = new HashMap<>();
    private final Set<Long> parked = new HashSet<>();
    private int batchFailures;
    private Instant retryAt;
    private Instant nextIntervalRebuild;
    private Instant nextRetention;
    private volatile Instant generationRetryAt;
    private volatile int generationFailures;
    private volatile boolean generationRebuildPending;
    private volatile boolean compensationPending;
    private volatile Instant compensationRetryAt;
    private volatile int compensationFailures;

    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong unknown = new AtomicLong();
    private final AtomicLong deadLettered = new AtomicLong();
    private final AtomicLong bucketRebuilds = new AtomicLong();

    public Replayer(
            Engine engine,
            CurrentGeneration generation,
            OutboxSource outbox,
            LeaseKeeper leases,
            FullRebuilder rebuilder,
            LagMonitor lag,
            DeadLetterSink deadLetters) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.generation = Objects.requireNonNull(generation, "generation");
        this.outbox = Objects.requireNonNull(outbox, "outbox");
        this.leases = Objects.requireNonNull(leases, "leases");
        this.rebuilder = Objects.requireNonNull(rebuilder, "rebuilder");
        this.lag = Objects.requireNonNull(lag, "lag");
        this.deadLetters = Objects.requireNonNull(deadLetters, "deadLetters");
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

    /** One replay step: lease, generation and schedule checks, then at most one batch. */
    public ReplayStep pollOnce() {
        Optional<Lease> held = leases.current();
        if (held.isEmpty()) {
            dropCursor();
            // A non-holder also learns here of a generation another instance built, not only when it
            // reads one of its snapshots: one projection read per poll.
            try {
                generation.adoptStored();
            } catch (ProjectionException e) {
                LOG.log(Level.DEBUG, "stored generation not readable: " + e.getMessage());
            }
            return ReplayStep.NOT_HOLDER;
        }
        Lease lease = held.get();
        Instant now = engine.clock().instant();
        checkGeneration(now);
        checkInterval(now);
        checkCompensation(now);
        if (cursor == null) {
            long start = engine.projection().watermark().value().orElse(0L);
            cursor = newCursor(start);
            persistedWatermark = start;
            retryAt = null;
            batchFailures = 0;
        }
        long ff = fastForward.getAndSet(-1);
        if (ff >= 0 && Long.compareUnsigned(ff, cursor.watermark()) > 0) {
            // A full rebuild covered everything below its horizon.
            cursor = newCursor(ff);
            persistedWatermark = Math.max(persistedWatermark, ff);
        }
        if (retryAt != null && now.isBefore(retryAt)) {
            observeLag();
            return ReplayStep.BACKING_OFF;
        }
        OutboxCursor.Batch batch;
        try {
            batch = cursor.next();
        } catch (RuntimeException e) {
            fail("reading the outbox failed: " + e.getMessage(), now);
            return ReplayStep.FAILED;
        }
        if (batch.isEmpty()) {
            cursor.acknowledge(batch);
            lag.caughtUp();
            if (!persist(lease, now)) {
                return ReplayStep.NOT_HOLDER;
            }
            publishCursor();
            return ReplayStep.IDLE;
        }
        boolean ok;
        engine.applyLock().lock();
        try {
            ok = apply(batch.events());
        } catch (LeaseLostException e) {
            // The batch outlived the lease: the new holder replays it from the stored watermark.
            dropCursor();
            return ReplayStep.NOT_HOLDER;
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "applying an outbox batch failed: " + e.getMessage(), e);
            ok = false;
        } finally {
            engine.applyLock().unlock();
        }
        if (!ok) {
            fail("batch of " + batch.events().size() + " events not fully applied", now);
            observeLag();
            return ReplayStep.FAILED;
        }
        cursor.acknowledge(batch);
        for (OutboxEvent e : batch.events()) {
            attempts.remove(e.id());
            lastErrors.remove(e.id());
            parked.remove(e.id());
        }
        batchFailures = 0;
        retryAt = null;
        applied.addAndGet(batch.events().size());
        if (!persist(lease, now)) {
            return ReplayStep.NOT_HOLDER;
        }
        publishCursor();
        observeLag();
        retention(now);
        return batch.full() ? ReplayStep.MORE : ReplayStep.CAUGHT_UP;
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
        return new OutboxCursor(outbox, watermark, r.maxApplied(), r.batchSize());
    }

    private void fail(String what, Instant now) {
        batchFailures++;
        Duration d = engine.config().replay().retryDelay(batchFailures);
        retryAt = now.plus(d);
        LOG.log(Level.WARNING, what + "; retrying in " + d.toMillis() + " ms (failure " + batchFailures + ")");
    }

    /** Moves the stored watermark to the cursor's; false when the lease turned out to be lost. */
    private boolean persist(Lease lease, Instant now) {
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

    private void checkGeneration(Instant now) {
        if (generationRebuildPending && !rebuilder.busy()) {
            generationRebuildPending = false;
        }
        if (generationRebuildPending || (generationRetryAt != null && now.isBefore(generationRetryAt))) {
            return;
        }
        Optional<Generation> stored;
        StoreOrigin origin;
        try {
            stored = engine.projection().generation().value();
            origin = stored.isPresent() ? engine.projection().origin() : StoreOrigin.UNTRACKED;
        } catch (RuntimeException e) {
            return;
        }
        if (stored.isPresent() && stored.get().matches(engine.fingerprint()) && origin.changed()) {
            // Another store process holds the projection (a promoted replica, a restart from disk): it
            // may lack writes its predecessor acknowledged, so a version of this generation could be
            // handed out again for other content. Serving goes on; a new generation replaces it.
            LOG.log(
                    Level.WARNING,
                    "the projection's store changed (now " + origin.current() + ", generation stamped on "
                            + origin.stamped() + "): full rebuild under a new generation");
            generationRebuildPending = true;
            rebuilder.requestNewGeneration("store_changed").whenComplete((v, e) -> generationRebuilt(e));
            return;
        }
        if (stored.isPresent() && stored.get().matches(engine.fingerprint())) {
            generation.adopt(stored.get());
            return;
        }
        // Missing (fresh or flushed Redis) or made for other settings: rebuild everything.
        generation.notCurrent();
        generationRebuildPending = true;
        rebuilder
                .request(stored.isEmpty() ? "generation_missing" : "generation_changed")
                .whenComplete((v, e) -> generationRebuilt(e));
    }

    private void generationRebuilt(Throwable e) {
        if (e == null) {
            generationFailures = 0;
            generationRetryAt = null;
        } else {
            generationFailures++;
            generationRetryAt = engine.clock().instant().plus(LagMonitor.retryDelay(generationFailures));
        }
    }

    private void checkInterval(Instant now) {
        int s = engine.config().scheduling().fullRebuildIntervalSeconds();
        if (s <= 0) {
            return;
        }
        if (nextIntervalRebuild == null) {
            nextIntervalRebuild = now.plusSeconds(s);
        } else if (!now.isBefore(nextIntervalRebuild)) {
            nextIntervalRebuild = now.plusSeconds(s);
            rebuilder.request("interval");
        }
    }

    /**
     * A full rebuild that stands in for dead-lettered events (or an outbox {@code full_rebuild}) is the
     * only thing that brings their changes into the snapshots; when it fails (the same broken bucket,
     * say), it is requested again with back-off (5 s doubling to 5 min) until one succeeds, instead of
     * leaving the change out until the next interval rebuild.
     */
    private void compensate(String why) {
        rebuilder.request(why).whenComplete((v, e) -> {
            if (e == null) {
                compensationFailures = 0;
                compensationRetryAt = null;
            } else {
                compensationFailures++;
                compensationRetryAt = engine.clock().instant().plus(LagMonitor.retryDelay(compensationFailures));
                compensationPending = true;
            }
        });
    }

    private void checkCompensation(Instant now) {
        Instant at = compensationRetryAt;
        if (compensationPending && (at == null || !now.isBefore(at))) {
            compensationPending = false;
            compensate("dead_letter_retry");
        }
    }

    private void retention(Instant now) {
        var r = engine.config().replay();
        if (nextRetention != null && now.isBefore(nextRetention)) {
            return;
        }
        nextRetention = now.plus(r.retentionInterval());
        try {
            outbox.deleteApplied(cursor.watermark(), r.retention(), r.retentionBatchSize());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "outbox retention failed: " + e.getMessage());
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

    /** Applies {@code events}; true when every event is applied or parked in the dead-letter sink. */
    private boolean apply(List<OutboxEvent> events) {
        Plan plan = new Plan();
        Map<Long, String> eventFailures = new LinkedHashMap<>();
        // Cards of every account the batch names, in one read (a store failure fails the batch).
        Set<Long> accountIds = new TreeSet<>();
        for (OutboxEvent e : events) {
            if (parked.contains(e.id())) {
                continue;
            }
            switch (e) {
                case OutboxEvent.AccountChanged a -> accountIds.add(a.accountId());
                case OutboxEvent.AccountBulkChanged a -> accountIds.addAll(a.accountIds());
                case OutboxEvent.AccountGroupsChanged a -> accountIds.addAll(a.accountIds());
                default -> {}
            }
        }
        Map<Long, AccountCard> cards =
                accountIds.isEmpty() ? Map.of() : engine.source().loadCards(accountIds);
        for (OutboxEvent e : events) {
            if (parked.contains(e.id())) {
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
            compensate(why);
        }
        boolean pending = infrastructure;
        int max = engine.config().replay().maxAttempts();
        for (OutboxEvent e : events) {
            String err = eventFailures.get(e.id());
            if (err == null) {
                continue;
            }
            int n = attempts.merge(e.id(), 1, Integer::sum);
            lastErrors.put(e.id(), err);
            if (n < max && !(e instanceof OutboxEvent.Malformed)) {
                pending = true;
                continue;
            }
            if (!park(e, err, n)) {
                pending = true;
            }
        }
        return !pending;
    }

    /** Dead-letters {@code e} and requests a full rebuild to cover its effect; false if the sink failed. */
    private boolean park(OutboxEvent e, String error, int tries) {
        try {
            deadLetters.deadLetter(e, error, tries);
        } catch (RuntimeException ex) {
            LOG.log(Level.WARNING, "dead-lettering outbox event " + e.id() + " failed: " + ex.getMessage());
            return false;
        }
        parked.add(e.id());
        deadLettered.incrementAndGet();
        LOG.log(Level.WARNING, "outbox event " + e.id() + " dead-lettered after " + tries + " attempt(s): " + error);
        compensate("dead_letter");
        return true;
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
        return deadLettered.get();
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
        return retryAt;
    }

    /** How often the event was tried without success so far (0 when never failed or done). */
    public int attempts(long eventId) {
        return attempts.getOrDefault(eventId, 0);
    }

    /** The lag monitor. */
    public LagMonitor lagMonitor() {
        return lag;
    }
}
