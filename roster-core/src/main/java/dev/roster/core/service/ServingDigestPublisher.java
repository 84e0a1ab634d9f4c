package dev.roster.core.service;

import dev.roster.core.Bucket;
import dev.roster.core.internal.CurrentGeneration;
import dev.roster.core.nearcache.NearCache;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ServingDigest;
import dev.roster.core.projection.Snapshot;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What this instance serves, published for the serving audit: per bucket of the near cache, the
 * (generation, version, content checksum) it answers from.
 *
 * <p>Contract. A digest names this instance by a random id drawn at construction (it names nothing
 * else); a content checksum is computed once per installed snapshot, not once per publish. Without a
 * near cache the digest has no buckets (the instance then serves the projection itself). A published
 * digest lives {@link #TTL}, three {@link #INTERVAL}s, so one lost publish leaves no gap.
 *
 * <p>Thread-safe.
 */
final class ServingDigestPublisher {
    private static final Logger LOG = LoggerFactory.getLogger(ServingDigestPublisher.class);

    /** How often a started service publishes its digest. */
    static final Duration INTERVAL = Duration.ofSeconds(10);

    /** How long a published digest lives. */
    static final Duration TTL = INTERVAL.multipliedBy(3);

    private final Projection projection;
    private final InstantSource clock;
    private final CurrentGeneration generation;
    private final Supplier<NearCache> nearCache;
    private final String instanceId = newInstanceId();
    private final Map<Bucket, ChecksumMemo> checksums = new HashMap<>();

    private record ChecksumMemo(Snapshot snapshot, String checksum) {}

    /** @param nearCache the service's near cache, or {@code null} from the supplier while there is none */
    ServingDigestPublisher(
            Projection projection, InstantSource clock, CurrentGeneration generation, Supplier<NearCache> nearCache) {
        this.projection = Objects.requireNonNull(projection, "projection");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.generation = Objects.requireNonNull(generation, "generation");
        this.nearCache = Objects.requireNonNull(nearCache, "nearCache");
    }

    String instanceId() {
        return instanceId;
    }

    /** See {@link SnapshotService#servingDigest()}. */
    // A checksum memo is for the snapshot instance it was computed from: identity is the test.
    @SuppressWarnings("ReferenceEquality")
    ServingDigest digest() {
        Map<Bucket, ServingDigest.Served> out = new HashMap<>();
        NearCache nc = nearCache.get();
        synchronized (checksums) {
            if (nc == null) {
                checksums.clear();
                return new ServingDigest(instanceId, generation.id(), clock.instant(), out);
            }
            nc.servedEntries().forEach((b, e) -> {
                Snapshot snap = e.snapshot();
                ChecksumMemo m = checksums.get(b);
                if (m == null || m.snapshot() != snap) {
                    m = new ChecksumMemo(snap, ServingDigest.checksum(snap.cards()));
                    checksums.put(b, m);
                }
                out.put(b, new ServingDigest.Served(snap.generation(), snap.version(), m.checksum()));
            });
            checksums.keySet().retainAll(out.keySet());
        }
        return new ServingDigest(instanceId, generation.id(), clock.instant(), out);
    }

    /**
     * Publishes {@link #digest()} with a TTL of {@link #TTL}.
     *
     * @throws dev.roster.core.projection.ProjectionException when the projection cannot be written
     */
    void publish() {
        projection.putServing(digest(), TTL);
    }

    /** {@link #publish()} for a timer: a failure is logged; the next interval publishes again. */
    void publishQuietly() {
        try {
            publish();
        } catch (RuntimeException e) {
            LOG.debug("serving digest not published: {}", e.getMessage());
        }
    }

    private static String newInstanceId() {
        byte[] b = new byte[8];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
