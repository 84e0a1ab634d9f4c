package dev.roster.core.selection;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The loads one selector instance holds between reads of the shared store (decision S5 under
 * "One-round-trip selection and new card fields"): each account's last read load (per request model, since
 * a model's cooldown is part of it) and last-used, kept for {@code selection.load_view_max_age} on the
 * application clock, and corrected in between by what this instance learns anyway: the live-slot count
 * the store returns with each acquisition, a full or cooling answer, its own releases and its own wait
 * tickets taken and handed back.
 *
 * <p>The view only orders the candidates. It admits nothing: the store's acquisition checks concurrency,
 * cooldowns and the RPM window atomically, so a stale view can cost an extra attempt, never an extra
 * slot or an account served inside its cooldown; and before the selector passes over an account the view
 * counts as saturated for a worse priority, it reads the loads again. A zero max age turns the view off (every select reads
 * the store). Thread-safe.
 */
final class LoadView {
    /** Models with a view of their own; past it the view forgets everything (a bound, not a cache policy). */
    static final int MAX_MODELS = 256;

    private record Entry(AccountLoad load, long readAtMs) {}

    private final InstantSource clock;
    private final long maxAgeMs;
    private final ConcurrentHashMap<String, ConcurrentHashMap<Long, Entry>> byModel = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, Instant> lastUsed = new ConcurrentHashMap<>();
    // Per account, not per model: health is the account's (decision SP2-2). Bounded by the accounts seen.
    private final ConcurrentHashMap<Long, AccountHealth> health = new ConcurrentHashMap<>();

    LoadView(InstantSource clock, Duration maxAge) {
        this.clock = clock;
        this.maxAgeMs = maxAge.toMillis();
    }

    /** Whether the view is on (a positive max age). */
    boolean enabled() {
        return maxAgeMs > 0;
    }

    /**
     * The loads of every id for {@code model}, or {@code null} when the view is off or one of them was not
     * read within the max age (the caller then reads the store and {@link #put}s the result).
     */
    @Nullable
    Map<Long, AccountLoad> fresh(Collection<Long> ids, @Nullable String model) {
        if (!enabled()) {
            return null;
        }
        Map<Long, Entry> m = byModel.get(key(model));
        if (m == null) {
            return null;
        }
        long now = clock.millis();
        Map<Long, AccountLoad> out = new HashMap<>(ids.size() * 2);
        for (Long id : ids) {
            Entry e = m.get(id);
            if (e == null || now - e.readAtMs() >= maxAgeMs || now < e.readAtMs()) {
                return null;
            }
            out.put(id, e.load());
        }
        return out;
    }

    /** The held last-used values of {@code ids} (those that have one). */
    Map<Long, Instant> lastUsed(Collection<Long> ids) {
        Map<Long, Instant> out = new HashMap<>();
        for (Long id : ids) {
            Instant t = lastUsed.get(id);
            if (t != null) {
                out.put(id, t);
            }
        }
        return out;
    }

    /** Stores a read of the shared store ({@code used} may be {@code null}: not reported). */
    void put(Map<Long, AccountLoad> loads, @Nullable Map<Long, Instant> used, @Nullable String model) {
        if (!enabled()) {
            return;
        }
        if (byModel.size() >= MAX_MODELS && !byModel.containsKey(key(model))) {
            byModel.clear();
        }
        long now = clock.millis();
        ConcurrentHashMap<Long, Entry> m = byModel.computeIfAbsent(key(model), k -> new ConcurrentHashMap<>());
        loads.forEach((id, l) -> m.put(id, new Entry(l, now)));
        if (used != null) {
            used.forEach((id, t) -> lastUsed.merge(id, t, LoadView::later));
        }
    }

    /**
     * Stores the health read with the loads of {@code ids}: an id without an entry in {@code read} has no
     * reported health (any it had has expired).
     */
    void putHealth(Collection<Long> ids, Map<Long, AccountHealth> read) {
        if (!enabled()) {
            return;
        }
        for (Long id : ids) {
            AccountHealth h = read.get(id);
            if (h == null) {
                health.remove(id);
            } else {
                health.put(id, h);
            }
        }
    }

    /** This instance reported for the account; {@code h} is the health the store computed with it. */
    void healthReported(long id, AccountHealth h) {
        if (enabled()) {
            health.merge(id, h, (old, now) -> now.at().isBefore(old.at()) ? old : now);
        }
    }

    /** The account's health as last read or reported, {@link AccountHealth#NONE} when unknown. */
    AccountHealth health(long id) {
        return health.getOrDefault(id, AccountHealth.NONE);
    }

    /**
     * A slot was granted: the account's live slots are {@code inFlight} (as counted by the store in the
     * same step; -1 when not reported, then one more than held), and it was used at {@code at}.
     */
    void granted(long id, int inFlight, Instant at) {
        if (!enabled()) {
            return;
        }
        adjust(
                id,
                l -> new AccountLoad(
                        inFlight >= 0 ? inFlight : l.inFlight() + 1, l.waiting(), l.coolingUntil(), l.quota()));
        lastUsed.merge(id, at, LoadView::later);
    }

    /** The store found the account full with {@code inFlight} live slots. */
    void full(long id, int inFlight) {
        if (enabled()) {
            adjust(
                    id,
                    l -> new AccountLoad(Math.max(inFlight, l.inFlight()), l.waiting(), l.coolingUntil(), l.quota()));
        }
    }

    /** The store refused the account for a cooldown until {@code until} (for {@code model} at least). */
    void cooling(long id, @Nullable String model, Instant until) {
        if (!enabled()) {
            return;
        }
        Map<Long, Entry> m = byModel.get(key(model));
        if (m != null) {
            m.computeIfPresent(
                    id,
                    (k, e) -> new Entry(
                            new AccountLoad(
                                    e.load().inFlight(),
                                    e.load().waiting(),
                                    until,
                                    e.load().quota()),
                            e.readAtMs()));
        }
    }

    /** This instance stored a quota report of the account: its view holds the state now in force. */
    void quota(long id, QuotaUsage q) {
        if (enabled()) {
            adjust(id, l -> new AccountLoad(l.inFlight(), l.waiting(), l.coolingUntil(), q));
        }
    }

    /** This instance released a slot of the account. */
    void released(long id) {
        if (enabled()) {
            adjust(id, l -> new AccountLoad(Math.max(0, l.inFlight() - 1), l.waiting(), l.coolingUntil(), l.quota()));
        }
    }

    /** This instance took a wait ticket on the account. */
    void enqueued(long id) {
        if (enabled()) {
            adjust(id, l -> new AccountLoad(l.inFlight(), l.waiting() + 1, l.coolingUntil(), l.quota()));
        }
    }

    /** This instance handed a live wait ticket of the account back. */
    void left(long id) {
        if (enabled()) {
            adjust(id, l -> new AccountLoad(l.inFlight(), Math.max(0, l.waiting() - 1), l.coolingUntil(), l.quota()));
        }
    }

    private void adjust(long id, java.util.function.UnaryOperator<AccountLoad> f) {
        for (ConcurrentHashMap<Long, Entry> m : byModel.values()) {
            m.computeIfPresent(id, (k, e) -> new Entry(f.apply(e.load()), e.readAtMs()));
        }
    }

    private static String key(@Nullable String model) {
        return model == null ? "" : model;
    }

    private static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }
}
