package dev.roster.core.outbox;

import java.time.Duration;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Read access to the scheduler outbox (docs/architecture.md, "Reading the outbox without skips"). Stateless: the
 * watermark and the set of applied events belong to the caller ({@link OutboxCursor}). Implementations throw {@link
 * dev.roster.core.source.SourceException} when the store cannot be reached; a row that cannot be
 * decoded is returned as {@link OutboxEvent.Malformed}, never thrown.
 */
public interface OutboxSource {

    /**
     * Reads, in one statement and so from one snapshot, the horizon and up to {@code limit} events
     * with {@code txid >= watermark}, in {@code (txid, id)} order, leaving out {@code excludedIds}
     * and, when {@code after} is not null, every event at or before {@code after}.
     */
    OutboxRead read(long watermark, Set<Long> excludedIds, @Nullable OutboxPosition after, int limit);

    /** Pending count, lag and the horizon's holder, relative to {@code watermark} and the applied set. */
    OutboxStats stats(long watermark, Set<Long> excludedIds);

    /**
     * Pending count, lag and the horizon's holder relative to a replayer's state, leaving out what its
     * overflow sweeps covered too. The default ignores the sweeps (sources without snapshots).
     */
    default OutboxStats stats(CursorState state) {
        return stats(state.watermark(), state.applied());
    }

    /**
     * Deletes, in batches of {@code batchSize}, events below {@code watermark} created more than
     * {@code retention} ago (database clock), under a lock shared by every instance; when another
     * instance holds the lock nothing is deleted.
     */
    RetentionResult deleteApplied(long watermark, Duration retention, int batchSize);
}
