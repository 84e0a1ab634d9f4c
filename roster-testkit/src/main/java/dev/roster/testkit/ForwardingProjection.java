package dev.roster.testkit;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.outbox.CursorState;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.Invalidation;
import dev.roster.core.projection.Lease;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.PublishOutcome;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.projection.StoreOrigin;
import dev.roster.core.projection.Subscription;
import dev.roster.core.projection.VersionTicket;
import dev.roster.core.projection.WatermarkOutcome;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * A {@link Projection} that forwards every call to another one. Tests extend it and override only
 * the calls they intercept (dropping invalidations, stopping a thread at a publish), so a decorator
 * states its one difference instead of restating the whole port.
 */
public abstract class ForwardingProjection implements Projection {
    /** The projection every call goes to. */
    protected final Projection delegate;

    protected ForwardingProjection(Projection delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    @Override
    public Lookup<Snapshot> readSnapshot(Bucket bucket) {
        return delegate.readSnapshot(bucket);
    }

    @Override
    public Lookup<Snapshot> refreshSnapshot(Bucket bucket, @Nullable Snapshot held) {
        return delegate.refreshSnapshot(bucket, held);
    }

    @Override
    public Lookup<Snapshot> readSnapshot(Bucket bucket, long version) {
        return delegate.readSnapshot(bucket, version);
    }

    @Override
    public Optional<VersionTicket> allocateVersion(Bucket bucket) {
        return delegate.allocateVersion(bucket);
    }

    @Override
    public PublishOutcome publish(VersionTicket ticket, String generation, List<AccountCard> cards) {
        return delegate.publish(ticket, generation, cards);
    }

    @Override
    public void retire(Bucket bucket) {
        delegate.retire(bucket);
    }

    @Override
    public void reopen(Bucket bucket) {
        delegate.reopen(bucket);
    }

    @Override
    public boolean isRetired(Bucket bucket) {
        return delegate.isRetired(bucket);
    }

    @Override
    public void register(Bucket bucket) {
        delegate.register(bucket);
    }

    @Override
    public Set<Bucket> buckets() {
        return delegate.buckets();
    }

    @Override
    public Lookup<AccountCard> card(long accountId) {
        return delegate.card(accountId);
    }

    @Override
    public Map<Long, Lookup<AccountCard>> cards(Collection<Long> accountIds) {
        return delegate.cards(accountIds);
    }

    @Override
    public void putCards(Collection<AccountCard> cards) {
        delegate.putCards(cards);
    }

    @Override
    public void putReplayCursor(CursorState cursor) {
        delegate.putReplayCursor(cursor);
    }

    @Override
    public Lookup<CursorState> replayCursor() {
        return delegate.replayCursor();
    }

    @Override
    public Set<Long> cardIds() {
        return delegate.cardIds();
    }

    @Override
    public void deleteCards(Collection<Long> accountIds) {
        delegate.deleteCards(accountIds);
    }

    @Override
    public void markUsed(Map<Long, Instant> lastUsed) {
        delegate.markUsed(lastUsed);
    }

    @Override
    public Map<Long, Instant> lastUsed(Collection<Long> accountIds) {
        return delegate.lastUsed(accountIds);
    }

    @Override
    public Lookup<Long> watermark() {
        return delegate.watermark();
    }

    @Override
    public WatermarkOutcome advanceWatermark(Lease replayerLease, long horizon) {
        return delegate.advanceWatermark(replayerLease, horizon);
    }

    @Override
    public Lookup<Generation> generation() {
        return delegate.generation();
    }

    @Override
    public void putGeneration(Generation generation) {
        delegate.putGeneration(generation);
    }

    @Override
    public void putGeneration(Generation generation, @Nullable String origin) {
        delegate.putGeneration(generation, origin);
    }

    @Override
    public StoreOrigin origin() {
        return delegate.origin();
    }

    @Override
    public void putServing(dev.roster.core.projection.ServingDigest digest, Duration ttl) {
        delegate.putServing(digest, ttl);
    }

    @Override
    public List<dev.roster.core.projection.ServingDigest> servingDigests() {
        return delegate.servingDigests();
    }

    @Override
    public Optional<Lease> tryAcquireLease(String name, Duration ttl) {
        return delegate.tryAcquireLease(name, ttl);
    }

    @Override
    public boolean renewLease(Lease lease, Duration ttl) {
        return delegate.renewLease(lease, ttl);
    }

    @Override
    public boolean releaseLease(Lease lease) {
        return delegate.releaseLease(lease);
    }

    @Override
    public Subscription subscribe(Consumer<Invalidation> listener) {
        return delegate.subscribe(listener);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
