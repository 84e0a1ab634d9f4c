package dev.roster;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.Invalidation;
import dev.roster.core.projection.Lease;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.PublishOutcome;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.projection.Subscription;
import dev.roster.core.projection.VersionTicket;
import dev.roster.core.projection.WatermarkOutcome;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A real projection whose invalidation messages can be lost on purpose: while {@link #dropping} is
 * set, delivered messages are counted and not passed on. Everything else goes to the real one.
 */
final class DroppingProjection implements Projection {
    final Projection real;
    final AtomicBoolean dropping = new AtomicBoolean();
    final AtomicLong dropped = new AtomicLong();

    DroppingProjection(Projection real) {
        this.real = real;
    }

    @Override
    public Subscription subscribe(Consumer<Invalidation> listener) {
        return real.subscribe(inv -> {
            if (dropping.get()) {
                dropped.incrementAndGet();
                return;
            }
            listener.accept(inv);
        });
    }

    @Override
    public Lookup<Snapshot> readSnapshot(Bucket bucket) {
        return real.readSnapshot(bucket);
    }

    @Override
    public Lookup<Snapshot> readSnapshot(Bucket bucket, long version) {
        return real.readSnapshot(bucket, version);
    }

    @Override
    public Optional<VersionTicket> allocateVersion(Bucket bucket) {
        return real.allocateVersion(bucket);
    }

    @Override
    public PublishOutcome publish(VersionTicket ticket, String generation, List<AccountCard> cards) {
        return real.publish(ticket, generation, cards);
    }

    @Override
    public void retire(Bucket bucket) {
        real.retire(bucket);
    }

    @Override
    public void reopen(Bucket bucket) {
        real.reopen(bucket);
    }

    @Override
    public boolean isRetired(Bucket bucket) {
        return real.isRetired(bucket);
    }

    @Override
    public void register(Bucket bucket) {
        real.register(bucket);
    }

    @Override
    public Set<Bucket> buckets() {
        return real.buckets();
    }

    @Override
    public Lookup<AccountCard> card(long accountId) {
        return real.card(accountId);
    }

    @Override
    public Map<Long, Lookup<AccountCard>> cards(Collection<Long> accountIds) {
        return real.cards(accountIds);
    }

    @Override
    public void putCards(Collection<AccountCard> cards) {
        real.putCards(cards);
    }

    @Override
    public void deleteCards(Collection<Long> accountIds) {
        real.deleteCards(accountIds);
    }

    @Override
    public void markUsed(Map<Long, Instant> lastUsed) {
        real.markUsed(lastUsed);
    }

    @Override
    public Map<Long, Instant> lastUsed(Collection<Long> accountIds) {
        return real.lastUsed(accountIds);
    }

    @Override
    public Lookup<Long> watermark() {
        return real.watermark();
    }

    @Override
    public WatermarkOutcome advanceWatermark(Lease replayerLease, long horizon) {
        return real.advanceWatermark(replayerLease, horizon);
    }

    @Override
    public Lookup<Generation> generation() {
        return real.generation();
    }

    @Override
    public void putGeneration(Generation generation) {
        real.putGeneration(generation);
    }

    @Override
    public Optional<Lease> tryAcquireLease(String name, Duration ttl) {
        return real.tryAcquireLease(name, ttl);
    }

    @Override
    public boolean renewLease(Lease lease, Duration ttl) {
        return real.renewLease(lease, ttl);
    }

    @Override
    public boolean releaseLease(Lease lease) {
        return real.releaseLease(lease);
    }

    @Override
    public void close() {
        real.close();
    }
}
