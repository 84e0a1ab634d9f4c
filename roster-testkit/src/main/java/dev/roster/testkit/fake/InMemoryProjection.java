package dev.roster.testkit.fake;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.outbox.CursorState;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.Invalidation;
import dev.roster.core.projection.Lease;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.PublishOutcome;
import dev.roster.core.projection.ServingDigest;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.projection.StoreOrigin;
import dev.roster.core.projection.Subscription;
import dev.roster.core.projection.VersionTicket;
import dev.roster.core.projection.WatermarkOutcome;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Projection} held in this process, the fake for tests. Thread-safe (one lock; every operation is short). Expiry (grace periods,
 * lease TTLs) is judged against the injected clock, so tests advance time by hand. Invalidations are
 * delivered synchronously to subscribers, after the lock is released, on the publishing thread.
 */
public final class InMemoryProjection implements Projection {
    private static final Logger LOG = LoggerFactory.getLogger(InMemoryProjection.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final InstantSource clock;
    private final Duration grace;
    private final Object lock = new Object();
    private final Map<Bucket, BucketState> buckets = new HashMap<>();
    private final Set<Bucket> registry = new TreeSet<>();
    private final Map<Long, AccountCard> cards = new HashMap<>();
    private final Map<Long, Long> lastUsedMillis = new HashMap<>();
    private final Map<String, HeldLease> leases = new HashMap<>();
    private final List<Consumer<Invalidation>> listeners = new CopyOnWriteArrayList<>();
    private @Nullable Long watermark;
    private @Nullable Generation generation;
    private String serverId = newToken();
    private @Nullable String originStamp;
    private final Map<String, HeldDigest> serving = new HashMap<>();
    private @Nullable CursorState replayCursor;

    /** An in-memory projection on the system clock with the default grace period. */
    public InMemoryProjection() {
        this(InstantSource.system(), DEFAULT_GRACE);
    }

    /**
     * An in-memory projection.
     *
     * @param clock judges expiry of superseded versions and leases
     * @param grace how long superseded snapshot versions stay readable; positive
     */
    public InMemoryProjection(InstantSource clock, Duration grace) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.grace = requirePositive(grace, "grace");
    }

    @Override
    public Lookup<Snapshot> readSnapshot(Bucket bucket) {
        Objects.requireNonNull(bucket, "bucket");
        synchronized (lock) {
            BucketState s = buckets.get(bucket);
            return s == null || s.active == null ? Lookup.miss() : Lookup.hit(s.active);
        }
    }

    @Override
    public Lookup<Snapshot> readSnapshot(Bucket bucket, long version) {
        Objects.requireNonNull(bucket, "bucket");
        synchronized (lock) {
            BucketState s = buckets.get(bucket);
            if (s == null) {
                return Lookup.miss();
            }
            if (s.active != null && s.active.version() == version) {
                return Lookup.hit(s.active);
            }
            s.expire(clock.instant());
            Superseded old = s.superseded.get(version);
            return old == null ? Lookup.miss() : Lookup.hit(old.snapshot);
        }
    }

    @Override
    public Optional<VersionTicket> allocateVersion(Bucket bucket) {
        Objects.requireNonNull(bucket, "bucket");
        synchronized (lock) {
            BucketState s = state(bucket);
            if (s.retired) {
                return Optional.empty();
            }
            s.counter++;
            return Optional.of(new VersionTicket(bucket, s.counter, s.epoch));
        }
    }

    @Override
    public PublishOutcome publish(VersionTicket ticket, String generation, List<AccountCard> cards) {
        Objects.requireNonNull(ticket, "ticket");
        Snapshot next = new Snapshot(ticket.bucket(), generation, ticket.version(), cards);
        synchronized (lock) {
            BucketState s = state(ticket.bucket());
            if (s.retired) {
                return PublishOutcome.RETIRED;
            }
            if (s.epoch != ticket.epoch()) {
                return PublishOutcome.FENCED;
            }
            if (s.active != null && s.active.version() >= ticket.version()) {
                return PublishOutcome.SUPERSEDED;
            }
            Instant now = clock.instant();
            s.expire(now);
            if (s.active != null) {
                s.superseded.put(s.active.version(), new Superseded(s.active, now.plus(grace)));
            }
            s.active = next;
            registry.add(ticket.bucket());
        }
        notifyListeners(new Invalidation(ticket.bucket(), generation, ticket.version()));
        return PublishOutcome.ACTIVATED;
    }

    @Override
    public void retire(Bucket bucket) {
        Objects.requireNonNull(bucket, "bucket");
        synchronized (lock) {
            BucketState s = state(bucket);
            registry.remove(bucket);
            if (s.retired) {
                return;
            }
            s.retired = true;
            s.epoch++;
            if (s.active != null) {
                Instant now = clock.instant();
                s.expire(now);
                s.superseded.put(s.active.version(), new Superseded(s.active, now.plus(grace)));
                s.active = null;
            }
        }
        notifyListeners(Invalidation.retiredBucket(bucket));
    }

    @Override
    public void reopen(Bucket bucket) {
        Objects.requireNonNull(bucket, "bucket");
        synchronized (lock) {
            state(bucket).retired = false;
        }
    }

    @Override
    public boolean isRetired(Bucket bucket) {
        Objects.requireNonNull(bucket, "bucket");
        synchronized (lock) {
            BucketState s = buckets.get(bucket);
            return s != null && s.retired;
        }
    }

    @Override
    public void register(Bucket bucket) {
        Objects.requireNonNull(bucket, "bucket");
        synchronized (lock) {
            registry.add(bucket);
        }
    }

    @Override
    public Set<Bucket> buckets() {
        synchronized (lock) {
            return Set.copyOf(registry);
        }
    }

    @Override
    public Lookup<AccountCard> card(long accountId) {
        synchronized (lock) {
            AccountCard c = cards.get(accountId);
            return c == null ? Lookup.miss() : Lookup.hit(c);
        }
    }

    @Override
    public Map<Long, Lookup<AccountCard>> cards(Collection<Long> accountIds) {
        List<Long> ids = List.copyOf(accountIds);
        Map<Long, Lookup<AccountCard>> out = new LinkedHashMap<>();
        synchronized (lock) {
            for (Long id : ids) {
                AccountCard c = cards.get(id);
                out.put(id, c == null ? Lookup.miss() : Lookup.hit(c));
            }
        }
        return out;
    }

    @Override
    public void putCards(Collection<AccountCard> cards) {
        List<AccountCard> list = List.copyOf(cards);
        synchronized (lock) {
            for (AccountCard c : list) {
                this.cards.put(c.id(), c);
            }
        }
    }

    @Override
    public Set<Long> cardIds() {
        synchronized (lock) {
            return Set.copyOf(cards.keySet());
        }
    }

    @Override
    public void deleteCards(Collection<Long> accountIds) {
        List<Long> ids = List.copyOf(accountIds);
        synchronized (lock) {
            for (Long id : ids) {
                cards.remove(id);
                lastUsedMillis.remove(id);
            }
        }
    }

    @Override
    public void markUsed(Map<Long, Instant> lastUsed) {
        Map<Long, Instant> copy = Map.copyOf(lastUsed);
        synchronized (lock) {
            copy.forEach((id, at) -> {
                if (cards.containsKey(id)) {
                    lastUsedMillis.merge(id, at.toEpochMilli(), Math::max);
                }
            });
        }
    }

    @Override
    public Map<Long, Instant> lastUsed(Collection<Long> accountIds) {
        List<Long> ids = List.copyOf(accountIds);
        Map<Long, Instant> out = new LinkedHashMap<>();
        synchronized (lock) {
            for (Long id : ids) {
                Long ms = lastUsedMillis.get(id);
                if (ms != null) {
                    out.put(id, Instant.ofEpochMilli(ms));
                }
            }
        }
        return out;
    }

    @Override
    public Lookup<Long> watermark() {
        synchronized (lock) {
            return watermark == null ? Lookup.miss() : Lookup.hit(watermark);
        }
    }

    @Override
    public WatermarkOutcome advanceWatermark(Lease replayerLease, long horizon) {
        requireReplayerLease(replayerLease);
        if (horizon < 0) {
            throw new IllegalArgumentException("watermark must be >= 0, got " + horizon);
        }
        synchronized (lock) {
            if (!holds(replayerLease)) {
                return WatermarkOutcome.FENCED;
            }
            if (watermark != null && watermark >= horizon) {
                return WatermarkOutcome.NOT_NEWER;
            }
            watermark = horizon;
            return WatermarkOutcome.ADVANCED;
        }
    }

    @Override
    public Lookup<Generation> generation() {
        synchronized (lock) {
            return generation == null ? Lookup.miss() : Lookup.hit(generation);
        }
    }

    @Override
    public void putGeneration(Generation generation) {
        putGeneration(generation, null);
    }

    @Override
    public void putGeneration(Generation generation, @Nullable String origin) {
        Objects.requireNonNull(generation, "generation");
        synchronized (lock) {
            this.generation = generation;
            this.originStamp = origin == null ? serverId : origin;
        }
    }

    @Override
    public StoreOrigin origin() {
        synchronized (lock) {
            return new StoreOrigin(serverId, generation == null ? null : originStamp);
        }
    }

    @Override
    public void putServing(ServingDigest digest, Duration ttl) {
        Objects.requireNonNull(digest, "digest");
        long until = clock.millis() + requirePositive(ttl, "ttl").toMillis();
        synchronized (lock) {
            serving.put(digest.instanceId(), new HeldDigest(digest.encode(), until));
        }
    }

    @Override
    public List<ServingDigest> servingDigests() {
        long now = clock.millis();
        List<ServingDigest> out = new ArrayList<>();
        synchronized (lock) {
            serving.values().removeIf(d -> d.expiresAtMillis() <= now);
            // Stored encoded, as Redis stores it, so a digest goes through the same round trip.
            serving.values().forEach(d -> out.add(ServingDigest.decode(d.encoded())));
        }
        return out;
    }

    private record HeldDigest(String encoded, long expiresAtMillis) {}

    /**
     * Gives the store a new process identity while keeping its data, as a failover to a replica (or a
     * restart from persistence) does; {@link #origin()} then reports the change. For tests.
     */
    public void replaceServer() {
        synchronized (lock) {
            serverId = newToken();
        }
    }

    @Override
    public void putReplayCursor(CursorState cursor) {
        Objects.requireNonNull(cursor, "cursor");
        synchronized (lock) {
            replayCursor = cursor;
        }
    }

    @Override
    public Lookup<CursorState> replayCursor() {
        synchronized (lock) {
            return replayCursor == null ? Lookup.miss() : Lookup.hit(replayCursor);
        }
    }

    @Override
    public Optional<Lease> tryAcquireLease(String name, Duration ttl) {
        Lease.requireName(name);
        requirePositive(ttl, "lease ttl");
        synchronized (lock) {
            Instant now = clock.instant();
            HeldLease held = leases.get(name);
            if (held != null && held.until.isAfter(now)) {
                return Optional.empty();
            }
            Lease lease = new Lease(name, newToken());
            leases.put(name, new HeldLease(lease.token(), now.plus(ttl)));
            return Optional.of(lease);
        }
    }

    @Override
    public boolean renewLease(Lease lease, Duration ttl) {
        Objects.requireNonNull(lease, "lease");
        requirePositive(ttl, "lease ttl");
        synchronized (lock) {
            if (!holds(lease)) {
                return false;
            }
            leases.put(
                    lease.name(), new HeldLease(lease.token(), clock.instant().plus(ttl)));
            return true;
        }
    }

    @Override
    public boolean releaseLease(Lease lease) {
        Objects.requireNonNull(lease, "lease");
        synchronized (lock) {
            if (!holds(lease)) {
                return false;
            }
            leases.remove(lease.name());
            return true;
        }
    }

    @Override
    public Subscription subscribe(Consumer<Invalidation> listener) {
        Objects.requireNonNull(listener, "listener");
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    @Override
    public void close() {
        listeners.clear();
    }

    /** Issues a lease owner token: 128 random bits as 32 lower-case hex characters. */
    static String newToken() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** Checks that {@code lease} is the replayer lease, the only one that may fence the watermark. */
    static void requireReplayerLease(Lease lease) {
        Objects.requireNonNull(lease, "replayerLease");
        if (!REPLAYER_LEASE.equals(lease.name())) {
            throw new IllegalArgumentException(
                    "the watermark is fenced by the '" + REPLAYER_LEASE + "' lease, got lease '" + lease.name() + "'");
        }
    }

    static Duration requirePositive(Duration d, String what) {
        Objects.requireNonNull(d, what);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, got " + d);
        }
        return d;
    }

    private boolean holds(Lease lease) {
        HeldLease held = leases.get(lease.name());
        return held != null && held.until.isAfter(clock.instant()) && held.token.equals(lease.token());
    }

    private BucketState state(Bucket bucket) {
        return buckets.computeIfAbsent(bucket, b -> new BucketState());
    }

    private void notifyListeners(Invalidation inv) {
        for (Consumer<Invalidation> l : listeners) {
            try {
                l.accept(inv);
            } catch (RuntimeException e) {
                LOG.warn("invalidation listener failed for {}", inv, e);
            }
        }
    }

    private static final class BucketState {
        long counter;
        long epoch;
        boolean retired;

        @Nullable
        Snapshot active;

        final Map<Long, Superseded> superseded = new HashMap<>();

        void expire(Instant now) {
            if (!superseded.isEmpty()) {
                new ArrayList<>(superseded.entrySet())
                        .stream()
                                .filter(e -> !e.getValue().until.isAfter(now))
                                .forEach(e -> superseded.remove(e.getKey()));
            }
        }
    }

    private record Superseded(Snapshot snapshot, Instant until) {}

    private record HeldLease(String token, Instant until) {}
}
