package dev.roster.it.faults;

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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The real Redis projection with one interception point, so a test can stop the replayer at an exact
 * place of a batch: before its {@code n}-th bucket publish ({@code publish:n}) or before its {@code
 * n}-th watermark write that follows a publish ({@code watermark:n}), counted from {@link #arm()}. Reaching it calls the
 * {@code atGate} action on the replayer's own thread (the child process writes a file and blocks there
 * until killed or released). Every call is passed to the real projection unchanged; nothing is faked.
 * No production code carries a hook for this.
 */
public final class GatedProjection implements Projection {
    private final Projection real;
    private final String point;
    private final int nth;
    private final Runnable atGate;
    private final AtomicInteger count = new AtomicInteger();
    private volatile boolean armed;
    private volatile boolean published;

    /**
     * @param gate {@code publish:n}, {@code watermark:n} or {@code none}
     * @param atGate what to do at the gate (runs on the calling thread, may block)
     */
    public GatedProjection(Projection real, String gate, Runnable atGate) {
        this.real = real;
        String[] p = gate.split(":");
        this.point = p[0];
        this.nth = p.length > 1 ? Integer.parseInt(p[1]) : 1;
        this.atGate = atGate;
    }

    /** Starts counting calls towards the gate. */
    public void arm() {
        armed = true;
    }

    private void pass(String at) {
        if (!armed) {
            return;
        }
        if ("publish".equals(at)) {
            published = true;
        } else if (!published) {
            // Only a watermark write that follows a batch's publishes counts: idle polls also move it.
            return;
        }
        if (point.equals(at) && count.incrementAndGet() == nth) {
            atGate.run();
        }
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
        pass("publish");
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
        pass("watermark");
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
    public Subscription subscribe(Consumer<Invalidation> listener) {
        return real.subscribe(listener);
    }

    @Override
    public void close() {
        real.close();
    }
}
