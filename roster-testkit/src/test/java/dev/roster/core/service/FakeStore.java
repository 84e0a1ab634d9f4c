package dev.roster.core.service;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Group0Scope;
import dev.roster.core.GroupLink;
import dev.roster.core.Mode;
import dev.roster.core.Platforms;
import dev.roster.core.RunMode;
import dev.roster.core.outbox.OutboxEvent;
import dev.roster.core.outbox.OutboxPosition;
import dev.roster.core.outbox.OutboxRead;
import dev.roster.core.outbox.OutboxSource;
import dev.roster.core.outbox.OutboxStats;
import dev.roster.core.outbox.RetentionResult;
import dev.roster.core.source.GroupInfo;
import dev.roster.core.source.SchedulingSource;
import dev.roster.testkit.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The source of truth and its outbox in memory, for core unit tests. The bucket query follows its
 * definition; the outbox models transaction ids and the horizon (the oldest open transaction), so late
 * commits can be reproduced. Writes made through the helpers emit the events the capture triggers
 * would. Failures and slowness are injected per bucket.
 */
final class FakeStore implements SchedulingSource, OutboxSource {
    private final TestClock clock;
    private final Map<Long, AccountCard> accounts = new TreeMap<>();
    private final Map<Long, GroupInfo> groups = new TreeMap<>();
    private final List<Stored> outbox = new ArrayList<>();
    private final TreeSet<Long> open = new TreeSet<>();
    private long nextTxid = 100;
    private long nextEventId = 1;

    /** Every bucket query, in order. */
    final List<Bucket> bucketQueries = new CopyOnWriteArrayList<>();
    /** How many bulk pool loads were made. */
    final java.util.concurrent.atomic.AtomicInteger poolLoads = new java.util.concurrent.atomic.AtomicInteger();
    /** How many outbox statistics reads were made. */
    final java.util.concurrent.atomic.AtomicInteger statsReads = new java.util.concurrent.atomic.AtomicInteger();

    volatile Function<Bucket, RuntimeException> bucketFailure = b -> null;
    /** Thrown by a card read of these ids (null: none). */
    volatile Function<Collection<Long>, RuntimeException> cardsFailure = ids -> null;
    /** Thrown by every outbox read (null: none). */
    volatile RuntimeException readFailure;

    volatile CompletableFuture<Void> gate;
    volatile Duration loadTakes = Duration.ZERO;

    FakeStore(TestClock clock) {
        this.clock = clock;
    }

    private record Stored(OutboxEvent event, long txid, boolean committed) {}

    // ---- writes (emit like the triggers) -------------------------------------------------------

    /** {@code c} with another status, every other field as it was. */
    static AccountCard withStatus(AccountCard c, String status) {
        return c.toBuilder().status(status).build();
    }

    static AccountCard card(long id, String platform, int priority, GroupLink... links) {
        return AccountCard.builder()
                .id(id)
                .name("acc-" + id)
                .platform(platform)
                .type("apikey")
                .status("active")
                .schedulable(true)
                .priority(priority)
                .concurrency(3)
                .groups(List.of(links))
                .updatedAt(Instant.EPOCH)
                .build();
    }

    /** Sets an account without emitting (seed data before the service starts). */
    synchronized void seed(AccountCard c) {
        accounts.put(c.id(), c);
    }

    synchronized void seedGroup(long id, String platform, String status) {
        groups.put(id, new GroupInfo(id, "g" + id, platform, status));
    }

    /** Inserts or replaces an account and emits account_changed with its old and new groups. */
    synchronized long upsert(AccountCard c) {
        AccountCard old = accounts.put(c.id(), c);
        TreeSet<Long> gids = new TreeSet<>();
        if (old != null) {
            old.groups().forEach(l -> gids.add(l.groupId()));
        }
        c.groups().forEach(l -> gids.add(l.groupId()));
        // Like the V3 trigger: old and new platform when it changed, none otherwise.
        TreeSet<String> platforms = new TreeSet<>();
        if (old != null && !old.platform().equals(c.platform())) {
            platforms.add(old.platform());
            platforms.add(c.platform());
        }
        return emit(txid -> new OutboxEvent.AccountChanged(
                0, txid, clock.instant(), c.id(), List.copyOf(gids), List.copyOf(platforms)));
    }

    synchronized long delete(long id) {
        AccountCard old = accounts.remove(id);
        List<Long> gids = old == null
                ? List.of()
                : old.groups().stream().map(GroupLink::groupId).toList();
        List<String> platforms = old == null ? null : List.of(old.platform());
        return emit(txid -> new OutboxEvent.AccountChanged(0, txid, clock.instant(), id, gids, platforms));
    }

    synchronized long group(long id, String platform, String status) {
        groups.put(id, new GroupInfo(id, "g" + id, platform, status));
        return emit(txid -> new OutboxEvent.GroupChanged(0, txid, clock.instant(), List.of(id)));
    }

    synchronized long deleteGroup(long id) {
        groups.remove(id);
        return emit(txid -> new OutboxEvent.GroupChanged(0, txid, clock.instant(), List.of(id)));
    }

    /** Emits an event in its own committed transaction; returns its id. */
    synchronized long emit(Function<Long, OutboxEvent> make) {
        long txid = nextTxid++;
        return add(make.apply(txid), txid, true);
    }

    /** Opens a transaction (pins the horizon) and returns its id. */
    synchronized long begin() {
        long txid = nextTxid++;
        open.add(txid);
        return txid;
    }

    /** Writes an event inside an open transaction (invisible until {@link #commit}). */
    synchronized long emitIn(long txid, Function<Long, OutboxEvent> make) {
        return add(make.apply(txid), txid, false);
    }

    synchronized void commit(long txid) {
        open.remove(txid);
        for (int i = 0; i < outbox.size(); i++) {
            Stored s = outbox.get(i);
            if (s.txid == txid) {
                outbox.set(i, new Stored(s.event, s.txid, true));
            }
        }
    }

    private long add(OutboxEvent e, long txid, boolean committed) {
        long id = nextEventId++;
        outbox.add(new Stored(withId(e, id), txid, committed));
        return id;
    }

    private static OutboxEvent withId(OutboxEvent e, long id) {
        return switch (e) {
            case OutboxEvent.AccountChanged a ->
                new OutboxEvent.AccountChanged(id, a.txid(), a.createdAt(), a.accountId(), a.groupIds(), a.platforms());
            case OutboxEvent.AccountBulkChanged a ->
                new OutboxEvent.AccountBulkChanged(
                        id, a.txid(), a.createdAt(), a.accountIds(), a.groupIds(), a.platforms());
            case OutboxEvent.AccountGroupsChanged a ->
                new OutboxEvent.AccountGroupsChanged(id, a.txid(), a.createdAt(), a.accountIds(), a.groupIds());
            case OutboxEvent.GroupChanged g -> new OutboxEvent.GroupChanged(id, g.txid(), g.createdAt(), g.groupIds());
            case OutboxEvent.FullRebuild f ->
                new OutboxEvent.FullRebuild(id, f.txid(), f.createdAt(), f.refreshAccountMetadata());
            case OutboxEvent.AccountLastUsed u ->
                new OutboxEvent.AccountLastUsed(id, u.txid(), u.createdAt(), u.lastUsed());
            case OutboxEvent.Unknown u -> new OutboxEvent.Unknown(id, u.txid(), u.createdAt(), u.eventType());
            case OutboxEvent.Malformed m ->
                new OutboxEvent.Malformed(id, m.txid(), m.createdAt(), m.eventType(), m.reason(), m.payload());
        };
    }

    synchronized AccountCard account(long id) {
        return accounts.get(id);
    }

    synchronized int outboxSize() {
        return outbox.size();
    }

    // ---- SchedulingSource -----------------------------------------------------------------------

    @Override
    public List<AccountCard> loadBucket(Bucket bucket, RunMode runMode, Group0Scope scope) {
        bucketQueries.add(bucket);
        CompletableFuture<Void> g = gate;
        if (g != null) {
            g.join();
        }
        if (!loadTakes.isZero()) {
            clock.advance(loadTakes);
        }
        RuntimeException fail = bucketFailure.apply(bucket);
        if (fail != null) {
            throw fail;
        }
        return query(bucket, runMode, scope);
    }

    /** The durable part of Q. */
    synchronized List<AccountCard> query(Bucket bucket, RunMode runMode, Group0Scope scope) {
        long g = runMode == RunMode.SIMPLE ? 0 : bucket.groupId();
        Group0Scope sc = runMode == RunMode.SIMPLE ? Group0Scope.ALL : scope;
        if (g > 0) {
            GroupInfo gi = groups.get(g);
            if (gi == null || !gi.active()) {
                return List.of();
            }
        }
        List<AccountCard> out = new ArrayList<>();
        for (AccountCard c : accounts.values()) {
            if (!c.durablySchedulable()) {
                continue;
            }
            boolean platform = c.platform().equals(bucket.platform())
                    || (bucket.mode() == Mode.MIXED
                            && c.platform().equals(Platforms.ANTIGRAVITY)
                            && c.mixedScheduling());
            if (!platform) {
                continue;
            }
            if (g > 0 && c.linkPriority(g) == null) {
                continue;
            }
            if (g == 0 && sc == Group0Scope.UNGROUPED && !c.groups().isEmpty()) {
                continue;
            }
            out.add(c);
        }
        Comparator<AccountCard> order = Comparator.comparingInt(AccountCard::priority);
        if (g > 0) {
            order = Comparator.<AccountCard>comparingInt(c -> c.linkPriority(g)).thenComparing(order);
        }
        out.sort(order.thenComparingLong(AccountCard::id));
        return List.copyOf(out);
    }

    @Override
    public Map<Long, AccountCard> loadCards(Collection<Long> ids) {
        RuntimeException fail = cardsFailure.apply(ids);
        if (fail != null) {
            throw fail;
        }
        Map<Long, AccountCard> out = new LinkedHashMap<>();
        synchronized (this) {
            for (Long id : new TreeSet<>(ids)) {
                AccountCard c = accounts.get(id);
                if (c != null) {
                    out.put(id, c);
                }
            }
        }
        // The replayer computes buckets from these rows: a broken bucket is a broken row here.
        Set<Bucket> touched = new java.util.LinkedHashSet<>();
        for (AccountCard c : out.values()) {
            touched.addAll(bucketsOf(c));
        }
        failFor(touched, false);
        return out;
    }

    /**
     * Loads the pool as the default does, after the injected bucket failures, gate and slowness of
     * every bucket the pool has (the full rebuild computes each of them from this load).
     */
    @Override
    public long loadPool(dev.roster.core.source.PoolSink sink) {
        poolLoads.incrementAndGet();
        Set<Bucket> all = new java.util.LinkedHashSet<>();
        synchronized (this) {
            TreeSet<String> platforms = new TreeSet<>(Platforms.SEED_PLATFORMS);
            accounts.values().forEach(a -> platforms.add(a.platform()));
            for (String p : platforms) {
                all.addAll(dev.roster.core.internal.Universe.canonical(0, p));
            }
            for (GroupInfo g : groups.values()) {
                if (g.active()) {
                    for (String p : platforms) {
                        all.addAll(dev.roster.core.internal.Universe.canonical(g.id(), p));
                    }
                }
            }
            accounts.values().forEach(a -> all.addAll(bucketsOf(a)));
        }
        failFor(all, true);
        return SchedulingSource.super.loadPool(sink);
    }

    private static Set<Bucket> bucketsOf(AccountCard c) {
        Set<Bucket> out = new java.util.LinkedHashSet<>(dev.roster.core.internal.Universe.canonical(0, c.platform()));
        for (GroupLink l : c.groups()) {
            out.addAll(dev.roster.core.internal.Universe.canonical(l.groupId(), c.platform()));
        }
        return out;
    }

    /**
     * Applies the per-bucket hooks to {@code buckets}; a failure that is not an outage is a defect of
     * the statement (as PostgreSQL would report a bug), the rest propagate as they are.
     */
    private void failFor(Set<Bucket> buckets, boolean record) {
        Function<Bucket, RuntimeException> f = bucketFailure;
        CompletableFuture<Void> g = gate;
        if (record && !buckets.isEmpty()) {
            bucketQueries.add(buckets.iterator().next());
        }
        if (g != null && record) {
            g.join();
        }
        if (record && !loadTakes.isZero()) {
            clock.advance(loadTakes);
        }
        for (Bucket b : buckets) {
            RuntimeException fail = f.apply(b);
            if (fail instanceof dev.roster.core.source.SourceException) {
                throw fail;
            }
            if (fail != null) {
                throw new dev.roster.core.source.SourceDefectException(fail.getMessage(), fail);
            }
        }
    }

    @Override
    public void loadAllCards(Consumer<? super AccountCard> sink) {
        List<AccountCard> all;
        synchronized (this) {
            all = List.copyOf(accounts.values());
        }
        // Outside the lock, like a database cursor: the sink may write to a projection.
        all.forEach(sink);
    }

    @Override
    public synchronized List<GroupInfo> activeGroups() {
        return groups.values().stream().filter(GroupInfo::active).toList();
    }

    @Override
    public synchronized Set<String> platforms() {
        TreeSet<String> out = new TreeSet<>();
        accounts.values().forEach(a -> out.add(a.platform()));
        groups.values().forEach(g -> out.add(g.platform()));
        return out;
    }

    @Override
    public Instant databaseNow() {
        return clock.instant();
    }

    @Override
    public OutboxSource outbox() {
        return this;
    }

    // ---- OutboxSource ---------------------------------------------------------------------------

    private long horizon() {
        return open.isEmpty() ? nextTxid : open.first();
    }

    @Override
    public synchronized OutboxRead read(long watermark, Set<Long> excludedIds, OutboxPosition after, int limit) {
        RuntimeException fail = readFailure;
        if (fail != null) {
            throw fail;
        }
        List<OutboxEvent> out = outbox.stream()
                .filter(s -> s.committed && Long.compareUnsigned(s.txid, watermark) >= 0)
                .map(Stored::event)
                .filter(e -> !excludedIds.contains(e.id()))
                .filter(e -> after == null || e.position().compareTo(after) > 0)
                .sorted(Comparator.comparing(OutboxEvent::position))
                .limit(limit)
                .toList();
        return new OutboxRead(horizon(), clock.instant(), out);
    }

    @Override
    public synchronized OutboxStats stats(long watermark, Set<Long> excludedIds) {
        statsReads.incrementAndGet();
        List<OutboxEvent> pending = outbox.stream()
                .filter(s -> s.committed && Long.compareUnsigned(s.txid, watermark) >= 0)
                .map(Stored::event)
                .filter(e -> !excludedIds.contains(e.id()))
                .toList();
        Instant oldest = pending.stream()
                .map(OutboxEvent::createdAt)
                .min(Comparator.naturalOrder())
                .orElse(null);
        Duration lag = oldest == null ? Duration.ZERO : Duration.between(oldest, clock.instant());
        return new OutboxStats(watermark, horizon(), pending.size(), oldest, lag, Duration.ZERO, null, clock.instant());
    }

    @Override
    public synchronized RetentionResult deleteApplied(long watermark, Duration retention, int batchSize) {
        Instant cutoff = clock.instant().minus(retention);
        int before = outbox.size();
        outbox.removeIf(s -> s.committed
                && Long.compareUnsigned(s.txid, watermark) < 0
                && s.event.createdAt().isBefore(cutoff));
        return new RetentionResult(true, before - outbox.size(), 1);
    }
}
