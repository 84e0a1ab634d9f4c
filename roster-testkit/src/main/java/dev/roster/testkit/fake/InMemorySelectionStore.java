package dev.roster.testkit.fake;

import dev.roster.core.selection.AccountHealth;
import dev.roster.core.selection.AccountLoad;
import dev.roster.core.selection.CooldownKind;
import dev.roster.core.selection.QuotaUsage;
import dev.roster.core.selection.SelectRequest;
import dev.roster.core.selection.SelectionStore;
import dev.roster.core.selection.SlotAttempt;
import dev.roster.core.selection.SlotLease;
import dev.roster.core.selection.Tokens;
import dev.roster.core.selection.WaitTicket;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;

/**
 * A {@link SelectionStore} in process memory, on an injected clock, the fake for tests.
 * One lock guards everything, which makes every operation trivially atomic; clients that share an
 * instance share its state as clients of one Redis do.
 */
public final class InMemorySelectionStore implements SelectionStore {
    private final InstantSource clock;
    private final Map<Long, Map<String, Instant>> slots = new HashMap<>();
    private final Map<Long, Map<String, Instant>> waits = new HashMap<>();
    private final Map<Long, EnumMap<CooldownKind, Instant>> cooldowns = new HashMap<>();
    private final Map<Long, Map<String, Instant>> modelCooldowns = new HashMap<>();
    private final Map<Long, Map<String, Streak>> streaks = new HashMap<>();
    private final Map<String, Binding> sticky = new HashMap<>();
    private final Map<Long, Map<String, Instant>> rpm = new HashMap<>();
    private final Map<Long, QuotaUsage> quota = new HashMap<>();

    private final Map<Long, AccountHealth> health = new HashMap<>();

    private record Binding(long accountId, long groupId, Instant expiresAt) {}

    private record Streak(int count, Instant last) {}

    /** A store judging expiry with {@code clock}. */
    public InMemorySelectionStore(InstantSource clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public SlotAttempt tryAcquire(long accountId, @Nullable String model, int concurrency, Duration ttl, String token) {
        return tryAcquire(accountId, model, concurrency, 0, ttl, token);
    }

    @Override
    public synchronized SlotAttempt tryAcquire(
            long accountId, @Nullable String model, int concurrency, int rpmLimit, Duration ttl, String token) {
        SelectionStore.requireAccount(accountId);
        if (rpmLimit < 0) {
            throw new IllegalArgumentException("rpm limit must not be negative, got " + rpmLimit);
        }
        model = SelectRequest.requireModel(model);
        SelectionStore.requirePositive(ttl, "slot ttl");
        Tokens.require(token, "slot token");
        Instant now = clock.instant();
        Map<String, Instant> held = live(slots, accountId, now);
        if (held.containsKey(token)) {
            // A repeat of an acquisition that already took this slot: refresh it, never take a second.
            SlotLease lease = new SlotLease(accountId, token, now.plus(ttl));
            held.put(token, lease.expiresAt());
            return new SlotAttempt.Granted(lease, held.size());
        }
        Instant cool = coolingUntil(accountId, model, now);
        if (cool != null) {
            return new SlotAttempt.CoolingDown(cool);
        }
        if (concurrency > 0 && held.size() >= concurrency) {
            return new SlotAttempt.Full(held.size());
        }
        if (rpmLimit > 0) {
            // The window is (now - 60 s, now], as in the Redis store's script.
            Instant windowStart = now.minus(RPM_WINDOW);
            Map<String, Instant> window = rpm.computeIfAbsent(accountId, k -> new LinkedHashMap<>());
            window.values().removeIf(t -> !t.isAfter(windowStart));
            if (window.size() >= rpmLimit) {
                Instant oldest =
                        window.values().stream().min(Instant::compareTo).orElseThrow();
                return new SlotAttempt.RpmFull(oldest.plus(RPM_WINDOW));
            }
            window.put(token, now);
        }
        SlotLease lease = new SlotLease(accountId, token, now.plus(ttl));
        held.put(lease.token(), lease.expiresAt());
        return new SlotAttempt.Granted(lease, held.size());
    }

    @Override
    public synchronized boolean renew(SlotLease lease, Duration ttl) {
        Objects.requireNonNull(lease, "lease");
        SelectionStore.requirePositive(ttl, "slot ttl");
        Instant now = clock.instant();
        Map<String, Instant> held = live(slots, lease.accountId(), now);
        if (!held.containsKey(lease.token())) {
            return false;
        }
        held.put(lease.token(), now.plus(ttl));
        return true;
    }

    @Override
    public synchronized boolean release(long accountId, String token) {
        SelectionStore.requireAccount(accountId);
        Tokens.require(token, "slot token");
        return live(slots, accountId, clock.instant()).remove(token) != null;
    }

    @Override
    public synchronized Optional<WaitTicket> tryEnqueue(long accountId, int maxWaiting, Duration ttl) {
        SelectionStore.requireAccount(accountId);
        SelectionStore.requirePositive(ttl, "wait ttl");
        Instant now = clock.instant();
        Map<String, Instant> held = live(waits, accountId, now);
        if (held.size() >= maxWaiting) {
            return Optional.empty();
        }
        WaitTicket t = new WaitTicket(accountId, Tokens.random(), now.plus(ttl));
        held.put(t.token(), t.expiresAt());
        return Optional.of(t);
    }

    @Override
    public synchronized boolean leave(long accountId, String token) {
        SelectionStore.requireAccount(accountId);
        Tokens.require(token, "wait token");
        return live(waits, accountId, clock.instant()).remove(token) != null;
    }

    private Map<Long, AccountLoad> loads(Collection<Long> accountIds, @Nullable String model) {
        Instant now = clock.instant();
        Map<Long, AccountLoad> out = new LinkedHashMap<>();
        for (long id : accountIds) {
            out.put(
                    id,
                    new AccountLoad(
                            count(slots.get(id), now),
                            count(waits.get(id), now),
                            coolingUntil(id, model, now),
                            quota.getOrDefault(id, QuotaUsage.NONE).live(now)));
        }
        return out;
    }

    @Override
    public synchronized Map<Long, AccountLoad> loads(Collection<Long> accountIds) {
        return loads(accountIds, null);
    }

    @Override
    public synchronized Reading read(Collection<Long> accountIds, @Nullable String bindingKey, @Nullable String model) {
        String m = SelectRequest.requireModel(model);
        Map<Long, AccountLoad> loads = loads(accountIds, m);
        Map<Long, AccountHealth> h = new HashMap<>();
        for (Long id : accountIds) {
            AccountHealth v = health.get(id);
            if (v != null) {
                h.put(id, v);
            }
        }
        return new Reading(loads, bindingKey == null ? OptionalLong.empty() : sticky(bindingKey), null, h);
    }

    @Override
    public synchronized AccountHealth recordHealth(
            long accountId, boolean failed, @Nullable Duration ttft, Duration halfLife) {
        SelectionStore.requireAccount(accountId);
        SelectionStore.requireTtft(ttft);
        SelectionStore.requirePositive(halfLife, "health half-life");
        AccountHealth now = health.getOrDefault(accountId, AccountHealth.NONE)
                .plus(failed, ttft == null ? -1 : (double) ttft.toMillis(), clock.instant(), halfLife);
        health.put(accountId, now);
        return now;
    }

    @Override
    public synchronized int dropStickyBindings(long accountId) {
        SelectionStore.requireAccount(accountId);
        return drop(b -> b.accountId() == accountId);
    }

    @Override
    public synchronized int dropStickyBindings(long accountId, long groupId) {
        SelectionStore.requireAccount(accountId);
        SelectionStore.requireGroup(groupId);
        return drop(b -> b.accountId() == accountId && b.groupId() == groupId);
    }

    // A scan of every binding: this store holds a test's few, where Redis keeps an index (SP2-4).
    private int drop(java.util.function.Predicate<Binding> which) {
        Instant now = clock.instant();
        int n = 0;
        for (var it = sticky.values().iterator(); it.hasNext(); ) {
            Binding b = it.next();
            if (which.test(b)) {
                it.remove();
                n += b.expiresAt().isAfter(now) ? 1 : 0;
            }
        }
        return n;
    }

    @Override
    public synchronized Instant extendModelCooldown(long accountId, String model, Instant until) {
        SelectionStore.requireAccount(accountId);
        String m = Objects.requireNonNull(SelectRequest.requireModel(model), "model");
        Objects.requireNonNull(until, "until");
        Map<String, Instant> byModel = modelCooldowns.computeIfAbsent(accountId, k -> new HashMap<>());
        // Entries live for their deadline, as the Redis hash's do.
        Instant now = clock.instant();
        byModel.values().removeIf(t -> !t.isAfter(now));
        return byModel.merge(m, until, (a, b) -> a.isAfter(b) ? a : b);
    }

    @Override
    public synchronized QuotaUsage reportQuota(long accountId, QuotaUsage report) {
        SelectionStore.requireAccount(accountId);
        Objects.requireNonNull(report, "report");
        Instant now = clock.instant();
        // The Redis store's script applies the same rule (QuotaUsage.merge); passed windows are dropped.
        QuotaUsage merged = quota.getOrDefault(accountId, QuotaUsage.NONE).merge(report, now);
        if (merged.isEmpty()) {
            quota.remove(accountId);
        } else {
            quota.put(accountId, merged);
        }
        return merged;
    }

    @Override
    public synchronized int recordFailure(long accountId, String streak, Duration window) {
        SelectionStore.requireAccount(accountId);
        SelectionStore.requireStreak(streak);
        SelectionStore.requirePositive(window, "streak window");
        Instant now = clock.instant();
        Map<String, Streak> m = streaks.computeIfAbsent(accountId, k -> new HashMap<>());
        Streak prev = m.get(streak);
        int n = prev != null && now.isBefore(prev.last().plus(window)) ? prev.count() + 1 : 1;
        m.put(streak, new Streak(n, now));
        return n;
    }

    @Override
    public synchronized void clearFailures(long accountId, Collection<String> names) {
        SelectionStore.requireAccount(accountId);
        names.forEach(SelectionStore::requireStreak);
        Map<String, Streak> m = streaks.get(accountId);
        if (m != null) {
            names.forEach(m::remove);
        }
    }

    @Override
    public synchronized Instant extendCooldown(long accountId, CooldownKind kind, Instant until) {
        SelectionStore.requireAccount(accountId);
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(until, "until");
        return cooldowns
                .computeIfAbsent(accountId, k -> new EnumMap<>(CooldownKind.class))
                .merge(kind, until, (a, b) -> a.isAfter(b) ? a : b);
    }

    @Override
    public synchronized OptionalLong sticky(String bindingKey) {
        SelectionStore.requireBindingKey(bindingKey);
        Binding b = sticky.get(bindingKey);
        if (b == null || !b.expiresAt().isAfter(clock.instant())) {
            sticky.remove(bindingKey);
            return OptionalLong.empty();
        }
        return OptionalLong.of(b.accountId());
    }

    @Override
    public synchronized void bindSticky(String bindingKey, long groupId, long accountId, Duration ttl) {
        SelectionStore.requireBindingKey(bindingKey);
        SelectionStore.requireGroup(groupId);
        SelectionStore.requireAccount(accountId);
        SelectionStore.requirePositive(ttl, "sticky ttl");
        sticky.put(bindingKey, new Binding(accountId, groupId, clock.instant().plus(ttl)));
    }

    @Override
    public synchronized boolean dropSticky(String bindingKey, long accountId) {
        SelectionStore.requireBindingKey(bindingKey);
        Binding b = sticky.get(bindingKey);
        if (b != null && b.accountId() == accountId) {
            sticky.remove(bindingKey);
            return true;
        }
        return false;
    }

    @Override
    public synchronized int sweep(Collection<Long> accountIds) {
        Instant now = clock.instant();
        int n = 0;
        for (long id : accountIds) {
            n += purge(slots.get(id), now) + purge(waits.get(id), now);
        }
        return n;
    }

    @Override
    public void close() {}

    private static Map<String, Instant> live(Map<Long, Map<String, Instant>> all, long id, Instant now) {
        Map<String, Instant> m = all.computeIfAbsent(id, k -> new HashMap<>());
        purge(m, now);
        return m;
    }

    private static int purge(@Nullable Map<String, Instant> m, Instant now) {
        if (m == null) {
            return 0;
        }
        int before = m.size();
        m.values().removeIf(exp -> !exp.isAfter(now));
        return before - m.size();
    }

    private static int count(@Nullable Map<String, Instant> m, Instant now) {
        if (m == null) {
            return 0;
        }
        return (int) m.values().stream().filter(exp -> exp.isAfter(now)).count();
    }

    private @Nullable Instant coolingUntil(long id, @Nullable String model, Instant now) {
        Instant latest = null;
        EnumMap<CooldownKind, Instant> c = cooldowns.get(id);
        if (c != null) {
            for (Instant t : c.values()) {
                latest = later(latest, t, now);
            }
        }
        Map<String, Instant> byModel = model == null ? null : modelCooldowns.get(id);
        if (byModel != null) {
            latest = later(latest, byModel.get(model), now);
        }
        return latest;
    }

    private static @Nullable Instant later(@Nullable Instant latest, @Nullable Instant t, Instant now) {
        return t != null && t.isAfter(now) && (latest == null || t.isAfter(latest)) ? t : latest;
    }
}
