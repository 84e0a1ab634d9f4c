package dev.roster.core.nearcache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.Invalidation;
import dev.roster.core.projection.Lease;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ProjectionUnavailableException;
import dev.roster.core.projection.PublishOutcome;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.projection.Subscription;
import dev.roster.core.projection.VersionTicket;
import dev.roster.core.projection.WatermarkOutcome;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A projection driven by hand, with only what the near cache calls: snapshot reads, the stored
 * generation and the invalidation subscription. A read either answers at once from {@link #stored}
 * (or fails while {@link #down} is set, like an unreachable Redis), or, for the buckets {@link #hold}
 * selects, waits until the test answers it, so the test decides in which order concurrent reads
 * complete. Invalidations are delivered when the test calls {@link #invalidate}, on the test's thread.
 */
final class HandDrivenProjection implements Projection {
    final Map<Bucket, Snapshot> stored = new ConcurrentHashMap<>();
    /** Every snapshot read, in the order they started. */
    final List<Bucket> reads = new CopyOnWriteArrayList<>();

    volatile boolean down;
    volatile Predicate<Bucket> hold = b -> false;
    volatile Generation generation;
    /** How many times the stored generation was read. */
    final java.util.concurrent.atomic.AtomicLong generationReads = new java.util.concurrent.atomic.AtomicLong();

    private volatile Consumer<Invalidation> listener;
    private final LinkedBlockingQueue<PendingRead> pending = new LinkedBlockingQueue<>();

    /** A read waiting for the test's answer. */
    static final class PendingRead {
        final Bucket bucket;
        private final CompletableFuture<Lookup<Snapshot>> answer = new CompletableFuture<>();

        PendingRead(Bucket bucket) {
            this.bucket = bucket;
        }

        void answer(Snapshot s) {
            assertThat(s.bucket()).isEqualTo(bucket);
            answer.complete(Lookup.hit(s));
        }

        void fail() {
            answer.completeExceptionally(unavailable());
        }
    }

    static ProjectionUnavailableException unavailable() {
        return new ProjectionUnavailableException(
                "reading the snapshot failed (test: Redis down)", new IOException("connection refused"));
    }

    /** The next held read, waiting up to 10 s for it to start. */
    PendingRead nextRead() throws InterruptedException {
        PendingRead r = pending.poll(10, TimeUnit.SECONDS);
        assertThat(r).as("a held snapshot read started within 10 s").isNotNull();
        return r;
    }

    /** Whether no held read is waiting. */
    boolean noPendingRead() {
        return pending.isEmpty();
    }

    /** Delivers the invalidation that publishing {@code s} sends. */
    void invalidate(Snapshot s) {
        Consumer<Invalidation> l = listener;
        assertThat(l).as("the near cache subscribed").isNotNull();
        l.accept(new Invalidation(s.bucket(), s.generation(), s.version()));
    }

    long readsOf(Bucket b) {
        return reads.stream().filter(b::equals).count();
    }

    @Override
    public Lookup<Snapshot> readSnapshot(Bucket bucket) {
        reads.add(bucket);
        if (hold.test(bucket)) {
            PendingRead r = new PendingRead(bucket);
            pending.add(r);
            try {
                return r.answer.join();
            } catch (CompletionException e) {
                throw (RuntimeException) e.getCause();
            }
        }
        if (down) {
            throw unavailable();
        }
        Snapshot s = stored.get(bucket);
        return s == null ? Lookup.miss() : Lookup.hit(s);
    }

    @Override
    public Lookup<Generation> generation() {
        generationReads.incrementAndGet();
        if (down) {
            throw unavailable();
        }
        Generation g = generation;
        return g == null ? Lookup.miss() : Lookup.hit(g);
    }

    @Override
    public Subscription subscribe(Consumer<Invalidation> l) {
        listener = l;
        return () -> listener = null;
    }

    @Override
    public void close() {}

    // ---- not used by the near cache -----------------------------------------------------------

    private static UnsupportedOperationException unused() {
        return new UnsupportedOperationException("not used by the near cache");
    }

    @Override
    public Lookup<Snapshot> readSnapshot(Bucket bucket, long version) {
        throw unused();
    }

    @Override
    public Optional<VersionTicket> allocateVersion(Bucket bucket) {
        throw unused();
    }

    @Override
    public PublishOutcome publish(VersionTicket ticket, String gen, List<AccountCard> cards) {
        throw unused();
    }

    @Override
    public void retire(Bucket bucket) {
        throw unused();
    }

    @Override
    public void reopen(Bucket bucket) {
        throw unused();
    }

    @Override
    public boolean isRetired(Bucket bucket) {
        throw unused();
    }

    @Override
    public void register(Bucket bucket) {
        throw unused();
    }

    @Override
    public Set<Bucket> buckets() {
        throw unused();
    }

    @Override
    public Lookup<AccountCard> card(long accountId) {
        throw unused();
    }

    @Override
    public Map<Long, Lookup<AccountCard>> cards(Collection<Long> accountIds) {
        throw unused();
    }

    @Override
    public void putCards(Collection<AccountCard> cards) {
        throw unused();
    }

    @Override
    public Set<Long> cardIds() {
        throw unused();
    }

    @Override
    public void deleteCards(Collection<Long> accountIds) {
        throw unused();
    }

    @Override
    public void markUsed(Map<Long, Instant> lastUsed) {
        throw unused();
    }

    @Override
    public Map<Long, Instant> lastUsed(Collection<Long> accountIds) {
        throw unused();
    }

    @Override
    public Lookup<Long> watermark() {
        throw unused();
    }

    @Override
    public WatermarkOutcome advanceWatermark(Lease replayerLease, long horizon) {
        throw unused();
    }

    @Override
    public void putGeneration(Generation g) {
        throw unused();
    }

    @Override
    public Optional<Lease> tryAcquireLease(String name, Duration ttl) {
        throw unused();
    }

    @Override
    public boolean renewLease(Lease lease, Duration ttl) {
        throw unused();
    }

    @Override
    public boolean releaseLease(Lease lease) {
        throw unused();
    }
}
