package dev.roster.core.replay;

import dev.roster.core.projection.Lease;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ProjectionException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds (or tries to obtain) the replayer lease {@link Projection#REPLAYER_LEASE}: acquires it when
 * free, renews it once {@code renew} has passed since the last renewal, and notices when it was lost.
 * Thread-safe; called from the replay loop and from the renewal timer.
 */
public final class LeaseKeeper {
    private static final Logger LOG = LoggerFactory.getLogger(LeaseKeeper.class);

    private final Projection projection;
    private final InstantSource clock;
    private final Duration ttl;
    private final Duration renew;
    private @Nullable Lease lease;
    private @Nullable Instant renewedAt;
    private long acquisitions;
    private boolean released;

    public LeaseKeeper(Projection projection, InstantSource clock, Duration ttl, Duration renew) {
        this.projection = Objects.requireNonNull(projection, "projection");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.ttl = ttl;
        this.renew = renew;
    }

    /**
     * The lease, acquiring or renewing it as due; empty when another instance holds it, Redis fails,
     * or this keeper was {@linkplain #release() released}.
     */
    public synchronized Optional<Lease> current() {
        if (released) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        try {
            // renewedAt is set with every lease.
            if (lease != null
                    && !now.isBefore(
                            Objects.requireNonNull(renewedAt, "renewedAt").plus(renew))) {
                if (projection.renewLease(lease, ttl)) {
                    renewedAt = now;
                } else {
                    LOG.warn("replayer lease lost (expired or taken over); replay stops here");
                    lease = null;
                }
            }
            if (lease == null) {
                lease = projection
                        .tryAcquireLease(Projection.REPLAYER_LEASE, ttl)
                        .orElse(null);
                renewedAt = now;
                if (lease != null) {
                    acquisitions++;
                    LOG.info("replayer lease acquired; this instance replays the outbox");
                }
            }
            return Optional.ofNullable(lease);
        } catch (ProjectionException e) {
            // Keep the lease object: if Redis comes back before the TTL ends, renewal succeeds.
            LOG.warn("replayer lease check failed: {}", e.getMessage());
            return Optional.empty();
        }
    }

    /** The lease if held, without acquiring or renewing. */
    public synchronized Optional<Lease> held() {
        return Optional.ofNullable(lease);
    }

    /**
     * Renews the held lease now, whatever the renewal schedule, and tells whether it is still ours.
     * Call it right before a write that the lease alone protects (card writes carry no version): after
     * a successful call nobody else can take the lease for a full TTL. A lost lease is forgotten.
     *
     * @return whether the lease is held (and now extended)
     * @throws ProjectionException when Redis cannot be reached (the lease is kept, as in {@link #current})
     */
    public synchronized boolean confirm() {
        if (lease == null) {
            return false;
        }
        if (projection.renewLease(lease, ttl)) {
            renewedAt = clock.instant();
            return true;
        }
        LOG.warn("replayer lease lost while a batch was in progress (expired or taken over)");
        lease = null;
        return false;
    }

    /** Forgets the lease (it was found fenced). */
    public synchronized void lost() {
        lease = null;
    }

    /** How many times this keeper acquired the lease. */
    public synchronized long acquisitions() {
        return acquisitions;
    }

    /**
     * Releases the lease if held (compare-and-delete), so another instance takes over at once, and
     * for good: the keeper never acquires again. A renewal already under way on a timer thread when the
     * instance closes would otherwise take the free lease back for an instance that replays no more,
     * and every other instance would wait a whole TTL for it.
     */
    public synchronized void release() {
        released = true;
        if (lease != null) {
            try {
                projection.releaseLease(lease);
            } catch (ProjectionException e) {
                LOG.warn("releasing the replayer lease failed (it expires by itself): {}", e.getMessage());
            }
            lease = null;
        }
    }
}
