package dev.roster.core.service;

import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ProjectionException;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last-used times of accounts: a local view and the projection's value move forward at once on
 * {@link #markUsed}, and the values are written behind to the source of truth in batches by {@link
 * #flush} (the service's flush timer, and once more on close).
 *
 * <p>Contract: every value is monotonic (a later time never gives way to an earlier one, whatever the
 * order of calls); a value queued for the writer stays queued until one {@link LastUsedWriter#write}
 * that contained it returned, and a newer value that arrives during a flush is not lost. A projection
 * failure on {@link #markUsed} is logged and counted, never thrown (the request already went out).
 *
 * <p>Thread-safe.
 */
final class LastUsedWriteBehind {
    private static final Logger LOG = LoggerFactory.getLogger(LastUsedWriteBehind.class);

    private final Projection projection;
    private final @Nullable LastUsedWriter writer;
    private final ConcurrentHashMap<Long, Instant> local = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, Instant> pending = new ConcurrentHashMap<>();
    private final AtomicLong flushes = new AtomicLong();
    private final AtomicLong projectionFailures = new AtomicLong();
    private final Object flushLock = new Object();

    /** @param writer where values are written behind, or {@code null} for none (nothing is queued) */
    LastUsedWriteBehind(Projection projection, @Nullable LastUsedWriter writer) {
        this.projection = Objects.requireNonNull(projection, "projection");
        this.writer = writer;
    }

    /** Whether a writer is configured (the service then runs the flush timer). */
    boolean writesBehind() {
        return writer != null;
    }

    /** See {@link SnapshotService#markUsed}. */
    void markUsed(long accountId, Instant at) {
        if (accountId <= 0) {
            throw new IllegalArgumentException("account id must be > 0, got " + accountId);
        }
        Objects.requireNonNull(at, "at");
        local.merge(accountId, at, LastUsedWriteBehind::later);
        if (writer != null) {
            pending.merge(accountId, at, LastUsedWriteBehind::later);
        }
        try {
            projection.markUsed(Map.of(accountId, at));
        } catch (ProjectionException e) {
            projectionFailures.incrementAndGet();
            LOG.debug("last-used of account {} not written to the projection: {}", accountId, e.getMessage());
        }
    }

    /** See {@link SnapshotService#lastUsed}. */
    Map<Long, Instant> lastUsed(Collection<Long> accountIds) {
        Map<Long, Instant> out = new HashMap<>();
        try {
            out.putAll(projection.lastUsed(accountIds));
        } catch (ProjectionException e) {
            LOG.debug("last-used read failed: {}", e.getMessage());
        }
        for (Long id : accountIds) {
            Instant mine = local.get(id);
            if (mine != null) {
                out.merge(id, mine, LastUsedWriteBehind::later);
            }
        }
        return out;
    }

    /** See {@link SnapshotService#flushLastUsed}. */
    int flush() {
        if (writer == null) {
            return 0;
        }
        synchronized (flushLock) {
            if (pending.isEmpty()) {
                return 0;
            }
            Map<Long, Instant> batch = new HashMap<>(pending);
            // Remove only what we took: a newer value that arrives meanwhile stays queued.
            batch.forEach(pending::remove);
            try {
                writer.write(batch);
                flushes.incrementAndGet();
                return batch.size();
            } catch (RuntimeException e) {
                batch.forEach((id, t) -> pending.merge(id, t, LastUsedWriteBehind::later));
                throw e;
            }
        }
    }

    /** {@link #flush()} for a timer: a failure is logged, and the values stay queued for the next one. */
    void flushQuietly() {
        try {
            flush();
        } catch (RuntimeException e) {
            LOG.warn("last-used write-behind failed (kept for the next flush): {}", e.getMessage());
        }
    }

    /** How many batches were written. */
    long flushes() {
        return flushes.get();
    }

    /** How many {@link #markUsed} calls could not write the projection. */
    long projectionFailures() {
        return projectionFailures.get();
    }

    private static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }
}
