package dev.roster.core.selection;

import dev.roster.core.AccountCard;
import dev.roster.core.Platforms;
import dev.roster.core.config.CooldownPolicy;
import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.config.SelectionConfig;
import dev.roster.core.config.StickyHealthThresholds;
import dev.roster.core.projection.ProjectionUnavailableException;
import dev.roster.core.service.ListResult;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the account for one request, holds a concurrency slot on it, and turns upstream outcomes into
 * cooldowns (docs/architecture.md, "Selection"; docs/upstream.md U-SEL).
 *
 * <p><b>Candidates</b> are the request's bucket from {@link CandidateSource#list} (time-based blocks of
 * the database already applied), minus the request's excluded ids, minus accounts not admissible for the
 * platform (U-SEL-3) or no longer schedulable at this instant (stale card), minus accounts that do not serve
 * the model, minus accounts inside a cooldown held in the {@link SelectionStore} (reported by any
 * instance), account-wide or for the request's model on that account, minus accounts whose reported quota
 * window is used at or past its threshold until that window resets (decision SP4).
 *
 * <p><b>Layers</b>, in sub2api's order:
 *
 * <ol>
 *   <li><b>Sticky</b>: a session bound to a candidate gets a slot on it, or a wait plan on it while its
 *       queue is below {@code sticky_session_max_waiting}. A binding whose account is no longer a
 *       candidate (for any reason but the request's own exclusion) is dropped at once and never served.
 *   <li><b>Load-aware</b> ({@code load_batch_enabled: true}): accounts with load rate below 100, sorted
 *       stably (over the bucket's order) by priority, load rate, then least recently used (never used
 *       first; among never used, OAuth first when {@code preferOAuth}); slots are tried in that order. In a
 *       tier whose weights differ, the weighted load level and the tier's weighted turns replace the load
 *       rate ({@link TierOrder}, decision SP3); with {@code selection.prefer_soonest_reset} the soonest
 *       quota reset comes first within a tier (decision SP6).
 *       <b>Legacy</b> ({@code false}): the single best account by priority and least recently used,
 *       first in bucket order on ties (U-SEL-5); its slot or a wait plan.
 *   <li>A retry that carries a {@link WaitTicket} first tries a slot on its queue's account, if still a
 *       candidate (sub2api's waiting loop polls that account's slot directly).
 *   <li><b>Fallback</b>: a wait plan ({@code fallback_wait_timeout}, {@code fallback_max_waiting}) on the
 *       first account, in priority and least-recently-used order, whose queue has room.
 * </ol>
 *
 * A slot acquired outside the sticky layer binds the session to the account for {@code
 * selection.sticky_ttl}; every sticky use refreshes it. Acquiring moves the account's last-used forward.
 *
 * <p><b>Errors.</b> Errors of the candidate source and of the store ({@code ProjectionUnavailableException})
 * propagate: without the shared store, concurrency cannot be guaranteed, so nothing is handed out. A slot
 * acquired before a later step failed is released again. An acquisition that fails with {@code
 * ProjectionUnavailableException} is repeated once with the same slot token (the store treats it as a
 * repeat, never a second slot) and, if that fails too, its token is released before the error propagates,
 * so a lost reply does not leave a slot held. Thread-safe.
 */
public final class Selector {
    private static final Logger LOG = LoggerFactory.getLogger(Selector.class);

    /** The failure streak of 429s without a reset time. */
    static final String STREAK_RATE_LIMITED = "rate_limited";

    /** The failure streak of overload answers. */
    static final String STREAK_OVERLOADED = "overloaded";

    private final CandidateSource source;
    private final SelectionStore store;
    private final UsageLedger usage;
    private final CooldownSink sink;
    private final SchedulingConfig scheduling;
    private final SelectionConfig config;
    private final InstantSource clock;
    private final SelectionMetrics metrics;
    private final Set<Long> seen = ConcurrentHashMap.newKeySet();
    private final LoadView view;
    private final WaitTickets tickets;
    private final TierOrder tiers;

    private Selector(Builder b) {
        this.source = Objects.requireNonNull(b.source, "source");
        this.store = Objects.requireNonNull(b.store, "store");
        this.usage = Objects.requireNonNull(b.usage, "usage");
        this.sink = b.sink;
        this.scheduling = b.scheduling;
        this.config = b.selection;
        this.tiers = new TierOrder(config.preferSoonestReset());
        this.clock = b.clock;
        this.metrics = b.metrics;
        this.view = new LoadView(b.clock, b.selection.loadViewMaxAge());
        this.tickets = new WaitTickets(b.selection.waitTicketSecret());
    }

    /** A builder; source, store and usage ledger are required. */
    public static Builder newBuilder() {
        return new Builder();
    }

    // ---- select ----------------------------------------------------------------------------

    /**
     * Selects an account for the request.
     *
     * @throws IllegalArgumentException for a malformed request (the request record checks it)
     * @throws InvalidWaitTicketException when the request's wait ticket was not issued for it (nothing
     *     written)
     */
    public Selection select(SelectRequest r) {
        return select(r, null);
    }

    /**
     * {@link #select(SelectRequest)} whose bucket listing is bounded by {@code budget} (an HTTP request's
     * remaining time), so a slow database fallback cannot hold the caller past its deadline.
     *
     * <p><b>Waits that end</b> (decision SP1). A retry's ticket is checked first: one this selector (or
     * another with the same {@code selection.wait_ticket_secret}) did not seal for this request's group,
     * platform, session key and model is refused with {@link InvalidWaitTicketException} before anything
     * is written. A valid ticket's place is handed back (counted once); past its deadline the answer is
     * {@link Selection.Reason#WAIT_EXPIRED}. Otherwise a re-queue keeps the ticket's deadline: a wait has
     * one deadline from its first enqueue, whatever the retries. Only a ticket whose place was still live
     * gets the direct slot attempt on its account, so replaying a used ticket jumps no queue.
     *
     * @param budget bound of the listing, or {@code null} for the source's own bound
     * @throws InvalidWaitTicketException when the request's wait ticket was not issued for it
     */
    public Selection select(SelectRequest r, @Nullable Duration budget) {
        Objects.requireNonNull(r, "request");
        @Nullable WaitTicket ticket = r.waitTicket();
        boolean ticketLive = false;
        if (ticket != null) {
            tickets.check(ticket, r);
            // The retrying request was counted in a queue; hand that place back first so it is counted once.
            ticketLive = store.leave(ticket.accountId(), ticket.token());
            if (ticketLive) {
                view.left(ticket.accountId());
            }
            Instant at = clock.instant();
            if (!ticket.expiresAt().isAfter(at)) {
                return none(
                        Selection.Reason.WAIT_EXPIRED,
                        "the wait on account " + ticket.accountId() + " ended at " + ticket.expiresAt()
                                + " (its deadline since the first enqueue); its place is handed back",
                        ticket.expiresAt());
            }
        }
        @Nullable Instant deadline = ticket == null ? null : ticket.expiresAt();
        ListResult listed = source.list(r.groupId(), r.platform(), r.forcePlatform(), budget);
        Instant now = clock.instant();
        String bucket = listed.bucket().text();

        List<AccountCard> all = listed.accounts();
        if (all.isEmpty()) {
            return none(Selection.Reason.NO_ACCOUNTS, "bucket " + bucket + " lists no schedulable account", null);
        }
        List<AccountCard> open = keep(all, c -> !r.excludedIds().contains(c.id()));
        if (open.isEmpty()) {
            return none(
                    Selection.Reason.ALL_EXCLUDED,
                    "all " + all.size() + " accounts of bucket " + bucket + " are excluded by the request",
                    null);
        }
        // The snapshot may be older than this instant: re-check what the card says (docs/upstream.md L1).
        List<AccountCard> admissible = keep(
                open,
                c -> admissible(c, r.platform(), listed.useMixed()) && c.durablySchedulable() && c.availableAt(now));
        if (admissible.isEmpty()) {
            return none(
                    Selection.Reason.NO_ACCOUNTS,
                    "none of the " + open.size() + " accounts of bucket " + bucket + " is schedulable for "
                            + r.platform() + " at " + now,
                    null);
        }
        List<AccountCard> serving = keep(admissible, c -> c.supportsModel(r.model()));
        if (serving.isEmpty()) {
            return none(
                    Selection.Reason.MODEL_UNSUPPORTED,
                    "none of the " + admissible.size() + " remaining accounts of bucket " + bucket + " supports model '"
                            + r.model() + "'",
                    null);
        }
        List<Long> ids = serving.stream().map(AccountCard::id).toList();
        seen.addAll(ids);
        @Nullable String binding = r.sessionKey() == null ? null : bindingKey(listed, r.platform(), r.sessionKey());
        // The loads this instance holds when they are fresh enough (decision S5), else the loads and the
        // session's binding in one read (one round trip on Redis, SEL16).
        @Nullable Map<Long, AccountLoad> held = view.fresh(ids, r.model());
        boolean fromView = held != null;
        Map<Long, AccountLoad> loads;
        OptionalLong stickyBound;
        @Nullable Map<Long, Instant> sharedLastUsed;
        // The health of the bound account comes with the loads (decision SP2-2): from the view, or from
        // the read that refreshes it, never from a call of its own.
        @Nullable Map<Long, AccountHealth> readHealth = null;
        if (held != null) {
            loads = held;
            stickyBound = binding == null ? OptionalLong.empty() : store.sticky(binding);
            sharedLastUsed = store.recordsLastUsed() ? view.lastUsed(ids) : null;
        } else {
            SelectionStore.Reading reading = store.read(ids, binding, r.model());
            loads = reading.loads();
            stickyBound = reading.sticky();
            sharedLastUsed = reading.lastUsed();
            readHealth = reading.health();
            view.put(loads, sharedLastUsed, r.model());
            view.putHealth(ids, readHealth);
        }
        @Nullable Instant firstFree = null;
        @Nullable Instant firstQuotaReset = null;
        List<Long> quotaPaused = new ArrayList<>();
        List<AccountCard> candidates = new ArrayList<>(serving.size());
        for (AccountCard c : serving) {
            AccountLoad l = load(loads, c);
            Instant until = l.coolingUntil();
            Instant paused = quotaPausedUntil(c, l, now);
            if (until != null && until.isAfter(now)) {
                firstFree = earlier(firstFree, until);
            } else if (paused != null) {
                // At or past its quota threshold: skipped until that window resets (decision SP4).
                quotaPaused.add(c.id());
                firstQuotaReset = earlier(firstQuotaReset, paused);
            } else {
                candidates.add(c);
            }
        }
        if (candidates.isEmpty()) {
            if (firstFree == null && firstQuotaReset != null) {
                return none(
                        Selection.Reason.QUOTA_THRESHOLD,
                        "all " + serving.size() + " remaining accounts of bucket " + bucket + " have used their"
                                + " quota window up to its threshold; the first resets at " + firstQuotaReset,
                        firstQuotaReset);
            }
            return coolingDown(serving.size(), bucket, earlier(firstFree, firstQuotaReset));
        }
        // A store that keeps last-used reported it with the loads; only other stores need the ledger's read.
        Map<Long, Instant> lastUsed = sharedLastUsed != null
                ? sharedLastUsed
                : usage.lastUsed(candidates.stream().map(AccountCard::id).toList());
        Set<Long> cooling = new HashSet<>();
        Skips skips = new Skips();
        // The binding later layers write: none when the bound account was only skipped for this request,
        // so the session returns to it (decision SP2-3); the skipped account is then tried last.
        @Nullable String rebind = binding;
        long passedOver = 0;
        quotaPaused.forEach(id -> skips.reasons.put(id, Selection.Reason.QUOTA_THRESHOLD));

        // Layer 1: the session's account.
        if (binding != null) {
            OptionalLong bound = stickyBound;
            if (bound.isEmpty() || r.excludedIds().contains(bound.getAsLong())) {
                metrics.stickyMiss();
            } else {
                long id = bound.getAsLong();
                AccountCard card = find(candidates, id);
                StickySkip unhealthy = card == null
                        ? null
                        : unhealthy(
                                readHealth != null ? readHealth.getOrDefault(id, AccountHealth.NONE) : view.health(id),
                                now);
                if (card == null) {
                    drop(binding, id);
                } else if (unhealthy != null) {
                    rebind = null;
                    passedOver = id;
                    metrics.stickySkipped(unhealthy);
                    metrics.stickyMiss();
                } else {
                    SlotAttempt a = acquire(card, r.model());
                    skips.note(card.id(), a);
                    switch (a) {
                        case SlotAttempt.Granted g -> {
                            metrics.stickyHit();
                            return acquired(card, g, true, Selection.Layer.STICKY, binding, now, skips);
                        }
                        case SlotAttempt.CoolingDown cd -> {
                            drop(binding, id);
                            cooling.add(id);
                            firstFree = earlier(firstFree, cd.until());
                        }
                        case SlotAttempt.RpmFull rf -> {
                            // The binding stays: the window frees within a minute.
                            rebind = null;
                            metrics.stickySkipped(StickySkip.RPM_FULL);
                            metrics.stickyMiss();
                        }
                        case SlotAttempt.Full f -> {
                            metrics.saturated();
                            Selection.Wait w = queue(
                                    card,
                                    scheduling.stickySessionMaxWaiting(),
                                    scheduling.stickySessionWaitTimeout(),
                                    true,
                                    r,
                                    deadline);
                            if (w != null) {
                                metrics.stickyHit();
                                return w;
                            }
                            // The binding stays: the account frees a slot as soon as one call ends.
                            rebind = null;
                            metrics.stickySkipped(StickySkip.FULL);
                            metrics.stickyMiss();
                        }
                    }
                }
            }
        }

        // A retry from a wait plan polls its queue's account directly, as sub2api's waiting loop does: the
        // load rate counts the other waiters, so going through layer 2 could starve every waiter. Only a
        // place that was live earns it: a used or swept ticket goes through the order like any request.
        if (ticket != null && ticketLive && !cooling.contains(ticket.accountId())) {
            AccountCard card = find(candidates, ticket.accountId());
            if (card != null) {
                SlotAttempt a = acquire(card, r.model());
                skips.note(card.id(), a);
                switch (a) {
                    case SlotAttempt.Granted g -> {
                        return acquired(card, g, false, Selection.Layer.FALLBACK, rebind, now, skips);
                    }
                    case SlotAttempt.CoolingDown cd -> {
                        cooling.add(card.id());
                        firstFree = earlier(firstFree, cd.until());
                    }
                    case SlotAttempt.RpmFull rf -> {}
                    case SlotAttempt.Full f -> metrics.saturated();
                }
            }
        }

        // Layer 2: load-aware priority order, or the legacy single best.
        List<AccountCard> pool = keep(candidates, c -> !cooling.contains(c.id()));
        Comparator<AccountCard> lru = leastRecentlyUsed(lastUsed, r.preferOAuth());
        if (scheduling.loadBatchEnabled()) {
            // On the view's loads, an account the view counts as saturated must not lose its priority to a
            // worse one: the view may be older than another instance's release. So before the first attempt
            // on a worse priority than such an account, and before giving up, the loads are read again
            // once and the order rebuilt (decision S5); the acquisition script stays the judge of full.
            boolean again = true;
            while (again) {
                again = false;
                Map<Long, AccountLoad> passLoads = loads;
                List<AccountCard> order = keep(
                        pool,
                        c -> !cooling.contains(c.id())
                                && !skips.rpmFull(c.id())
                                && load(passLoads, c).loadRate(c.concurrency()) < 100);
                order = tiers.order(bucket, order, passLoads, lru, now);
                last(order, passedOver);
                int hidden = fromView ? bestHidden(pool, passLoads, cooling, skips) : Integer.MAX_VALUE;
                for (AccountCard c : order) {
                    if (c.priority() > hidden) {
                        again = true;
                        break;
                    }
                    SlotAttempt a = acquire(c, r.model());
                    skips.note(c.id(), a);
                    switch (a) {
                        case SlotAttempt.Granted g -> {
                            tiers.granted(bucket, pool, c, passLoads, now);
                            return acquired(c, g, false, Selection.Layer.LOAD_AWARE, rebind, now, skips);
                        }
                        case SlotAttempt.CoolingDown cd -> {
                            cooling.add(c.id());
                            firstFree = earlier(firstFree, cd.until());
                        }
                        case SlotAttempt.RpmFull rf -> {}
                        case SlotAttempt.Full f -> metrics.saturated();
                    }
                }
                if (hidden != Integer.MAX_VALUE) {
                    again = true;
                }
                if (again) {
                    loads = reread(ids, r.model(), pool, cooling, now);
                    firstFree = earlier(firstFree, firstCooling(loads, pool, now));
                    fromView = false;
                }
            }
        }
        if (!scheduling.loadBatchEnabled() && !pool.isEmpty()) {
            List<AccountCard> legacy = new ArrayList<>(pool);
            legacy.sort(Comparator.comparingInt(AccountCard::priority).thenComparing(lru));
            last(legacy, passedOver);
            AccountCard best = legacy.getFirst();
            SlotAttempt a = acquire(best, r.model());
            skips.note(best.id(), a);
            switch (a) {
                case SlotAttempt.Granted g -> {
                    return acquired(best, g, false, Selection.Layer.LEGACY, rebind, now, skips);
                }
                case SlotAttempt.CoolingDown cd -> {
                    cooling.add(best.id());
                    firstFree = earlier(firstFree, cd.until());
                }
                case SlotAttempt.RpmFull rf -> {}
                case SlotAttempt.Full f -> metrics.saturated();
            }
        }

        // Layer 3: a wait plan on the best account whose queue has room.
        if (fromView) {
            // No wait plan on the view's word: a cooldown another instance set since the view was read
            // must keep its account out of the queue, as a fresh read would.
            loads = reread(ids, r.model(), pool, cooling, now);
            firstFree = earlier(firstFree, firstCooling(loads, pool, now));
        }
        // An account whose RPM window is full gets no wait plan: a slot would not help it.
        List<AccountCard> fallback = keep(pool, c -> !cooling.contains(c.id()) && !skips.rpmFull(c.id()));
        if (fallback.isEmpty()) {
            if (skips.firstRpmFree() != null) {
                return none(
                        Selection.Reason.RPM_FULL,
                        "the remaining accounts of bucket " + bucket + " are cooling down or have used their"
                                + " requests-per-minute limit; the first frees a place at " + skips.firstRpmFree(),
                        skips.firstRpmFree());
            }
            return coolingDown(serving.size(), bucket, firstFree);
        }
        fallback.sort(Comparator.comparingInt(AccountCard::priority).thenComparing(lru));
        last(fallback, passedOver);
        for (AccountCard c : fallback) {
            if (load(loads, c).waiting() < scheduling.fallbackMaxWaiting()) {
                Selection.Wait w =
                        queue(c, scheduling.fallbackMaxWaiting(), scheduling.fallbackWaitTimeout(), false, r, deadline);
                if (w != null) {
                    return w;
                }
            }
        }
        return none(
                Selection.Reason.SATURATED,
                "all " + fallback.size() + " available accounts of bucket " + bucket
                        + " are at their concurrency and their wait queues are full",
                null);
    }

    // ---- release, renew --------------------------------------------------------------------

    /** Frees a slot (idempotent); returns whether it was still held. */
    public boolean release(SlotLease lease) {
        Objects.requireNonNull(lease, "lease");
        boolean held = store.release(lease.accountId(), lease.token());
        if (held) {
            view.released(lease.accountId());
        }
        return held;
    }

    /** Frees the slot {@code token} of the account (idempotent); for callers that kept only the two values. */
    public boolean release(long accountId, String token) {
        boolean held = store.release(SelectionStore.requireAccount(accountId), Tokens.require(token, "slot token"));
        if (held) {
            view.released(accountId);
        }
        return held;
    }

    /** Hands a wait ticket back (idempotent); returns whether it was still live. */
    public boolean release(WaitTicket ticket) {
        Objects.requireNonNull(ticket, "ticket");
        boolean live = store.leave(ticket.accountId(), ticket.token());
        if (live) {
            view.left(ticket.accountId());
        }
        return live;
    }

    /**
     * Extends a held slot by {@code selection.slot_lease_ttl} from now, for upstream calls (long streams)
     * that outlast it.
     *
     * @return whether the slot was still held; {@code false} means it expired and may be reused by others
     */
    public boolean renew(SlotLease lease) {
        return store.renew(Objects.requireNonNull(lease, "lease"), config.slotLeaseTtl());
    }

    // ---- report ----------------------------------------------------------------------------

    /**
     * Records what the upstream answered for an account, by error class (decisions SEL5, CD1–CD3). A
     * cooldown is written to the shared store at once (every instance honours it at its next select) and
     * then, when account-wide, to the {@link CooldownSink}; deadlines only ever extend, so a report with an
     * earlier deadline than the stored one leaves the stored one.
     *
     * <ul>
     *   <li>{@code RATE_LIMITED} with a reset time in the future: until then, capped at {@code
     *       rate_limit_max}; without one: {@code rate_limit_steps}, escalating with the streak.
     *   <li>{@code QUOTA_EXHAUSTED}: until the reset time, capped at {@code quota_max}, or {@code
     *       quota_default} without one (the {@code rate_limit_reset_at} column).
     *   <li>{@code OVERLOADED}: {@code overload_steps}, escalating.
     *   <li>{@code UNAUTHORIZED}, {@code FORBIDDEN}: as decision SEL5.
     *   <li>{@code MODEL_UNSUPPORTED}: {@code model_unsupported_steps} for that model on that account
     *       only, escalating per model; nothing persisted.
     *   <li>{@code SUCCESS}: ends the account's rate-limit and overload streaks and the streak of its model.
     * </ul>
     *
     * With any kind, the outcome's {@link Outcome#quota()} is stored for the account ({@link
     * SelectionStore#reportQuota}); an account whose window is used at or past its threshold is skipped
     * until that window resets (decision SP4).
     *
     * @throws IllegalArgumentException when {@code accountId <= 0}, when the outcome's reset time lies more
     *     than {@link Outcome#MAX_RESET_PAST} before or {@link Outcome#MAX_RESET_FUTURE} after now (decision
     *     SP5), or naming the quota field whose reset lies further than its window's length (plus an hour)
     *     from now (nothing is written)
     * @throws UnknownAccountException when the account does not exist (nothing is written)
     */
    public ReportResult report(long accountId, Outcome outcome) {
        return report(accountId, outcome, null);
    }

    /**
     * {@link #report(long, Outcome)} with the call's time-to-first-token. Besides the cooldowns, the
     * outcome joins the account's shared health (decision SP2-1): {@code SUCCESS} as a success, {@code
     * OVERLOADED}, {@code UNAUTHORIZED}, {@code FORBIDDEN} and {@code OTHER} as a failure, with {@code ttft}
     * when given; a 429, an exhausted quota and a refused model are not health samples (their cooldowns
     * say exactly when they end), and their {@code ttft} is ignored.
     *
     * @param ttft the time from sending the request to the first token, or {@code null} when unknown;
     *     0..24h
     * @throws IllegalArgumentException when {@code accountId <= 0} or {@code ttft} is out of range
     * @throws UnknownAccountException when the account does not exist (nothing is written)
     */
    public ReportResult report(long accountId, Outcome outcome, @Nullable Duration ttft) {
        SelectionStore.requireAccount(accountId);
        Objects.requireNonNull(outcome, "outcome");
        SelectionStore.requireTtft(ttft);
        Instant now = clock.instant();
        Outcome.requireResetWithin(outcome.resetAt(), now);
        AccountCard card = source.getAccount(accountId).orElseThrow(() -> new UnknownAccountException(accountId));
        ReportResult result = cooldowns(accountId, outcome, card, now);
        Boolean failed = healthSample(outcome.kind());
        if (failed != null) {
            view.healthReported(
                    accountId,
                    store.recordHealth(
                            accountId, failed, ttft, config.stickyHealth().halfLife()));
        }
        return result;
    }

    /** Whether a report of {@code kind} is a failed (true) or served (false) health sample, or none (null). */
    static @Nullable Boolean healthSample(Outcome.Kind kind) {
        return switch (kind) {
            case SUCCESS -> false;
            case OVERLOADED, UNAUTHORIZED, FORBIDDEN, OTHER -> true;
            case RATE_LIMITED, QUOTA_EXHAUSTED, MODEL_UNSUPPORTED -> null;
        };
    }

    /**
     * Why a bound account in {@code health} must not serve its session's request at {@code now}, or
     * {@code null} when it may (decision SP2-2): a mean counts once the weight of its recent reports
     * reaches {@code min_samples}, so a few early failures, or an old bad spell, skip nothing.
     */
    @Nullable
    StickySkip unhealthy(AccountHealth health, Instant now) {
        StickyHealthThresholds t = config.stickyHealth();
        if (t.errorRateCounts()
                && health.errorSamples(now, t.halfLife()) >= t.minSamples()
                && health.errorRate() * 100 > t.maxErrorPercent()) {
            return StickySkip.ERROR_RATE;
        }
        if (t.ttftCounts()
                && health.ttftSamples(now, t.halfLife()) >= t.minSamples()
                && health.ttftMs() > t.maxTtft().toMillis()) {
            return StickySkip.SLOW;
        }
        return null;
    }

    private ReportResult cooldowns(long accountId, Outcome outcome, AccountCard card, Instant now) {
        CooldownPolicy policy = config.cooldowns();
        QuotaUsage quota = outcome.quota();
        if (quota != null && !quota.isEmpty()) {
            // Checked before anything is written; a report whose reset has passed is ignored by the store.
            quota.requireReasonable(now);
            view.quota(accountId, store.reportQuota(accountId, quota));
        }
        return switch (outcome.kind()) {
            case SUCCESS -> {
                store.clearFailures(
                        accountId,
                        outcome.model() == null
                                ? List.of(STREAK_RATE_LIMITED, STREAK_OVERLOADED)
                                : List.of(STREAK_RATE_LIMITED, STREAK_OVERLOADED, modelStreak(outcome.model())));
                yield new ReportResult(accountId, ReportResult.Action.NONE, null, null, true);
            }
            case RATE_LIMITED -> {
                Instant reset = outcome.resetAt();
                if (reset != null && reset.isAfter(now)) {
                    yield cooldown(accountId, CooldownKind.RATE_LIMITED, capped(reset, now, policy.rateLimitMax()), 0);
                }
                int n = store.recordFailure(accountId, STREAK_RATE_LIMITED, policy.streakWindow());
                Instant until = now.plus(CooldownPolicy.step(policy.rateLimitSteps(), n));
                yield cooldown(accountId, CooldownKind.RATE_LIMITED, until, n);
            }
            case QUOTA_EXHAUSTED -> {
                Instant reset = outcome.resetAt();
                Instant until = reset != null && reset.isAfter(now)
                        ? capped(reset, now, policy.quotaMax())
                        : now.plus(policy.quotaDefault());
                yield cooldown(accountId, CooldownKind.RATE_LIMITED, until, 0);
            }
            case OVERLOADED -> {
                int n = store.recordFailure(accountId, STREAK_OVERLOADED, policy.streakWindow());
                Instant until = now.plus(CooldownPolicy.step(policy.overloadSteps(), n));
                yield cooldown(accountId, CooldownKind.OVERLOADED, until, n);
            }
            case UNAUTHORIZED -> {
                String type = card.type();
                if (type == null || "oauth".equals(type) || "setup-token".equals(type)) {
                    yield cooldown(
                            accountId, CooldownKind.TEMP_UNSCHEDULABLE, now.plus(config.authFailureCooldown()), 0);
                }
                yield error(accountId, now, message(outcome, "Authentication failed (401)"));
            }
            case FORBIDDEN -> error(accountId, now, message(outcome, "Access forbidden (403)"));
            case MODEL_UNSUPPORTED -> {
                // Outcome refuses MODEL_UNSUPPORTED without a model.
                String model = Objects.requireNonNull(outcome.model(), "model");
                int n = store.recordFailure(accountId, modelStreak(model), policy.streakWindow());
                Instant effective = store.extendModelCooldown(
                        accountId, model, now.plus(CooldownPolicy.step(policy.modelUnsupportedSteps(), n)));
                metrics.cooldownSet(CooldownKind.MODEL_UNSUPPORTED);
                yield new ReportResult(
                        accountId,
                        ReportResult.Action.COOLDOWN,
                        CooldownKind.MODEL_UNSUPPORTED,
                        effective,
                        true,
                        model,
                        n);
            }
            default -> new ReportResult(accountId, ReportResult.Action.NONE, null, null, true);
        };
    }

    /**
     * Deletes expired slots and wait tickets of every account this selector has seen as a candidate.
     * {@link SlotSweeper} runs it every {@code slot_cleanup_interval}.
     *
     * @return how many entries were deleted
     */
    public int sweepExpired() {
        return seen.isEmpty() ? 0 : store.sweep(List.copyOf(seen));
    }

    /** The scheduling section in use. */
    public SchedulingConfig scheduling() {
        return scheduling;
    }

    // ---- internals ---------------------------------------------------------------------------

    private Selection acquired(
            AccountCard card,
            SlotAttempt.Granted granted,
            boolean sticky,
            Selection.Layer layer,
            @Nullable String binding,
            Instant now,
            Skips skips) {
        SlotLease lease = granted.lease();
        view.granted(card.id(), granted.inFlight(), now);
        try {
            if (binding != null) {
                store.bindSticky(binding, groupOf(binding), card.id(), config.stickyTtl());
            }
            if (store.recordsLastUsed()) {
                // The acquisition moved the shared last-used in the same step (decision S5).
                usage.noteUsed(Map.of(card.id(), now));
            } else {
                usage.markUsed(Map.of(card.id(), now));
            }
        } catch (RuntimeException e) {
            // Never leak a slot the caller will not learn about (upstream SEL-02, docs/upstream.md).
            try {
                store.release(lease.accountId(), lease.token());
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        metrics.acquired(layer);
        return new Selection.Acquired(card, lease, sticky, layer, skips.reasons);
    }

    /**
     * One slot acquisition, safe against a lost reply. The token is chosen here, so when the store fails
     * with {@link ProjectionUnavailableException} (it may have taken the slot and lost only the reply) the
     * acquisition is repeated once with the same token: the store's answer then tells whether the slot is
     * held (granted once, never twice) or was never taken. If the repeat fails too, the token is released
     * best effort, so a slot the lost call took does not block the account until its lease ends, and the
     * error propagates.
     */
    private SlotAttempt acquire(AccountCard card, @Nullable String model) {
        SlotAttempt a = acquireOnce(card, model);
        switch (a) {
            case SlotAttempt.Full f -> view.full(card.id(), f.inFlight());
            case SlotAttempt.CoolingDown cd -> view.cooling(card.id(), model, cd.until());
            default -> {}
        }
        return a;
    }

    private SlotAttempt acquireOnce(AccountCard card, @Nullable String model) {
        String token = Tokens.random();
        try {
            return store.tryAcquire(
                    card.id(), model, card.concurrency(), card.rpmLimit(), config.slotLeaseTtl(), token);
        } catch (ProjectionUnavailableException first) {
            try {
                return store.tryAcquire(
                        card.id(), model, card.concurrency(), card.rpmLimit(), config.slotLeaseTtl(), token);
            } catch (ProjectionUnavailableException second) {
                second.addSuppressed(first);
                try {
                    store.release(card.id(), token);
                } catch (RuntimeException releaseFailed) {
                    // The slot, if taken, is then held until its lease ends (selection.slot_lease_ttl).
                    second.addSuppressed(releaseFailed);
                }
                throw second;
            }
        }
    }

    /**
     * Reads the loads again (the view was used and found no slot), stores them in the view, and adds the
     * accounts of {@code pool} now cooling down to {@code cooling}.
     */
    private Map<Long, AccountLoad> reread(
            List<Long> ids, @Nullable String model, List<AccountCard> pool, Set<Long> cooling, Instant now) {
        SelectionStore.Reading fresh = store.read(ids, null, model);
        view.put(fresh.loads(), fresh.lastUsed(), model);
        for (AccountCard c : pool) {
            AccountLoad l = load(fresh.loads(), c);
            Instant until = l.coolingUntil();
            if ((until != null && until.isAfter(now)) || quotaPausedUntil(c, l, now) != null) {
                cooling.add(c.id());
            }
        }
        return fresh.loads();
    }

    /** Until when the account's reported quota pauses it, by its thresholds or the configured ones (SP4). */
    private @Nullable Instant quotaPausedUntil(AccountCard c, AccountLoad l, Instant now) {
        return l.quota()
                .pausedUntil(
                        c.limits().quotaThreshold5hOr(config.quota().fiveHour()),
                        c.limits().quotaThreshold7dOr(config.quota().sevenDay()),
                        now);
    }

    /**
     * The best priority among the accounts of {@code pool} that the loads count as saturated (and that are
     * neither cooling nor RPM-full), or {@link Integer#MAX_VALUE} when there is none.
     */
    private static int bestHidden(
            List<AccountCard> pool, Map<Long, AccountLoad> loads, Set<Long> cooling, Skips skips) {
        int best = Integer.MAX_VALUE;
        for (AccountCard c : pool) {
            if (!cooling.contains(c.id())
                    && !skips.rpmFull(c.id())
                    && load(loads, c).loadRate(c.concurrency()) >= 100) {
                best = Math.min(best, c.priority());
            }
        }
        return best;
    }

    private static @Nullable Instant firstCooling(Map<Long, AccountLoad> loads, List<AccountCard> pool, Instant now) {
        @Nullable Instant first = null;
        for (AccountCard c : pool) {
            Instant until = load(loads, c).coolingUntil();
            if (until != null && until.isAfter(now)) {
                first = earlier(first, until);
            }
        }
        return first;
    }

    /** What the store refused while one select tried accounts, for {@link Selection.Acquired#skipped()}. */
    private static final class Skips {
        final Map<Long, Selection.Reason> reasons = new LinkedHashMap<>();
        private @Nullable Instant firstRpmFree;

        void note(long id, SlotAttempt a) {
            switch (a) {
                case SlotAttempt.Granted g -> {}
                case SlotAttempt.Full f -> reasons.putIfAbsent(id, Selection.Reason.SATURATED);
                case SlotAttempt.CoolingDown cd -> reasons.put(id, Selection.Reason.COOLING_DOWN);
                case SlotAttempt.RpmFull rf -> {
                    reasons.put(id, Selection.Reason.RPM_FULL);
                    firstRpmFree = earlier(firstRpmFree, rf.until());
                }
            }
        }

        boolean rpmFull(long id) {
            return reasons.get(id) == Selection.Reason.RPM_FULL;
        }

        @Nullable
        Instant firstRpmFree() {
            return firstRpmFree;
        }
    }

    /**
     * A wait plan on {@code card}: a place in its queue until {@code deadline} when the request retries
     * from an earlier wait (its one deadline, decision SP1), else for {@code timeout}; the store's ticket is
     * sealed for the request.
     */
    private Selection.@Nullable Wait queue(
            AccountCard card,
            int maxWaiting,
            Duration timeout,
            boolean sticky,
            SelectRequest r,
            @Nullable Instant deadline) {
        if (timeout.isZero()) {
            return null;
        }
        Instant now = clock.instant();
        Instant end;
        Duration left;
        if (deadline == null) {
            // A first enqueue waits the whole timeout. Its deadline is in whole milliseconds (it travels in
            // the seal, on the wire and in Redis as epoch ms), rounded up so that it never ends before the place.
            left = timeout;
            Instant exact = now.plus(timeout);
            Instant whole = exact.truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
            end = whole.equals(exact) ? whole : whole.plusMillis(1);
        } else {
            end = deadline;
            left = Duration.between(now, end);
            if (left.isNegative() || left.isZero()) {
                return null;
            }
        }
        return store.tryEnqueue(card.id(), maxWaiting, left)
                .map(t -> {
                    view.enqueued(card.id());
                    Selection.Wait w = new Selection.Wait(
                            card, left, maxWaiting, sticky, tickets.seal(card.id(), t.token(), end, r));
                    metrics.waitPlanned(w.layer());
                    return w;
                })
                .orElse(null);
    }

    private void drop(String binding, long accountId) {
        store.dropSticky(binding, accountId);
        metrics.stickyDrop();
    }

    private Selection coolingDown(int count, String bucket, @Nullable Instant firstFree) {
        return none(
                Selection.Reason.COOLING_DOWN,
                "all " + count + " remaining accounts of bucket " + bucket + " are cooling down; the first is free at "
                        + firstFree,
                firstFree);
    }

    private Selection none(Selection.Reason reason, String detail, @Nullable Instant until) {
        metrics.none(reason);
        return new Selection.None(reason, detail, until);
    }

    private ReportResult cooldown(long accountId, CooldownKind kind, Instant until, int streak) {
        Instant effective = store.extendCooldown(accountId, kind, until);
        metrics.cooldownSet(kind);
        boolean persisted = persist(accountId, () -> sink.extend(accountId, kind, effective));
        return new ReportResult(accountId, ReportResult.Action.COOLDOWN, kind, effective, persisted, null, streak);
    }

    /** An announced reset, cut to {@code max} from now: a wrong or hostile header cannot lock an account for long. */
    private static Instant capped(Instant reset, Instant now, Duration max) {
        Instant cap = now.plus(max);
        return reset.isAfter(cap) ? cap : reset;
    }

    /** The failure streak of a refused model (one per model, so refusals of other models do not escalate it). */
    static String modelStreak(String model) {
        return "model:" + model;
    }

    private ReportResult error(long accountId, Instant now, String message) {
        // The error status reaches the snapshots through the database; until then every instance skips the
        // account through a temporary cooldown in the shared store.
        Instant effective = store.extendCooldown(
                accountId, CooldownKind.TEMP_UNSCHEDULABLE, now.plus(config.authFailureCooldown()));
        metrics.errorSet();
        boolean persisted = persist(accountId, () -> sink.markError(accountId, message));
        return new ReportResult(
                accountId, ReportResult.Action.ERROR, CooldownKind.TEMP_UNSCHEDULABLE, effective, persisted);
    }

    private boolean persist(long accountId, Runnable write) {
        try {
            write.run();
            return true;
        } catch (RuntimeException e) {
            LOG.warn(
                    "cooldown of account {} is in the shared store but could not be persisted: {}",
                    accountId,
                    e.toString());
            return false;
        }
    }

    private static String message(Outcome o, String fallback) {
        return o.message() == null || o.message().isBlank() ? fallback : o.message();
    }

    /** Platform admissibility, docs/upstream.md U-SEL-3. */
    static boolean admissible(AccountCard c, String platform, boolean useMixed) {
        if (c.platform().equals(platform)) {
            return true;
        }
        return useMixed && Platforms.ANTIGRAVITY.equals(c.platform()) && c.mixedScheduling();
    }

    /**
     * Least recently used first: never used before used, then the older; between two never-used accounts,
     * OAuth first when {@code preferOAuth}; otherwise equal (the stable sort keeps the bucket's order).
     */
    static Comparator<AccountCard> leastRecentlyUsed(Map<Long, Instant> lastUsed, boolean preferOAuth) {
        return (a, b) -> {
            Instant la = lastUsed.get(a.id());
            Instant lb = lastUsed.get(b.id());
            if (la == null && lb == null) {
                return preferOAuth ? Boolean.compare(!isOAuth(a), !isOAuth(b)) : 0;
            }
            if (la == null) {
                return -1;
            }
            if (lb == null) {
                return 1;
            }
            return la.compareTo(lb);
        };
    }

    private static boolean isOAuth(AccountCard c) {
        return "oauth".equals(c.type());
    }

    /** The group of a binding key ({@link #bindingKey}): the text before its first colon. */
    static long groupOf(String bindingKey) {
        return Long.parseLong(bindingKey.substring(0, bindingKey.indexOf(':')));
    }

    /** Sessions are bound per (group, platform), as sub2api keys them per group. */
    static String bindingKey(ListResult listed, String platform, String sessionKey) {
        return listed.bucket().groupId() + ":" + platform + ":" + sessionKey;
    }

    private static AccountLoad load(Map<Long, AccountLoad> loads, AccountCard c) {
        return loads.getOrDefault(c.id(), AccountLoad.IDLE);
    }

    /** Moves the card of {@code id} (if there) to the end of {@code order}, keeping the others' order. */
    private static void last(List<AccountCard> order, long id) {
        if (id == 0) {
            return;
        }
        for (int i = 0; i < order.size(); i++) {
            if (order.get(i).id() == id) {
                order.add(order.remove(i));
                return;
            }
        }
    }

    private static @Nullable AccountCard find(List<AccountCard> cards, long id) {
        for (AccountCard c : cards) {
            if (c.id() == id) {
                return c;
            }
        }
        return null;
    }

    private static List<AccountCard> keep(List<AccountCard> cards, Predicate<AccountCard> p) {
        List<AccountCard> out = new ArrayList<>(cards.size());
        for (AccountCard c : cards) {
            if (p.test(c)) {
                out.add(c);
            }
        }
        return out;
    }

    private static @Nullable Instant earlier(@Nullable Instant a, @Nullable Instant b) {
        if (b == null) {
            return a;
        }
        return a == null || b.isBefore(a) ? b : a;
    }

    /** Builds a {@link Selector}. */
    public static final class Builder {
        private @Nullable CandidateSource source;
        private @Nullable SelectionStore store;
        private @Nullable UsageLedger usage;
        private CooldownSink sink = CooldownSink.NONE;
        private SchedulingConfig scheduling = SchedulingConfig.DEFAULTS;
        private SelectionConfig selection = SelectionConfig.DEFAULTS;
        private InstantSource clock = InstantSource.system();
        private SelectionMetrics metrics = SelectionMetrics.NONE;

        private Builder() {}

        /** Where candidates come from (required). */
        public Builder source(CandidateSource v) {
            source = Objects.requireNonNull(v, "source");
            return this;
        }

        /** The shared slot, sticky and cooldown store (required). */
        public Builder store(SelectionStore v) {
            store = Objects.requireNonNull(v, "store");
            return this;
        }

        /** Last-used values (required). */
        public Builder usage(UsageLedger v) {
            usage = Objects.requireNonNull(v, "usage");
            return this;
        }

        /** Where cooldowns are persisted (default: nowhere). */
        public Builder cooldownSink(CooldownSink v) {
            sink = Objects.requireNonNull(v, "cooldownSink");
            return this;
        }

        /** {@code gateway.scheduling} (default: sub2api's defaults). */
        public Builder scheduling(SchedulingConfig v) {
            scheduling = Objects.requireNonNull(v, "scheduling");
            return this;
        }

        /** {@code selection} (default: {@link SelectionConfig#DEFAULTS}). */
        public Builder selection(SelectionConfig v) {
            selection = Objects.requireNonNull(v, "selection");
            return this;
        }

        /** The application clock (default: the system clock); must be the store's clock too. */
        public Builder clock(InstantSource v) {
            clock = Objects.requireNonNull(v, "clock");
            return this;
        }

        /** Metrics (default: none). */
        public Builder metrics(SelectionMetrics v) {
            metrics = Objects.requireNonNull(v, "metrics");
            return this;
        }

        /**
         * The selector.
         *
         * @throws NullPointerException naming the first required part that is missing
         */
        public Selector build() {
            return new Selector(this);
        }
    }
}
