package dev.roster.core.outbox;

import java.util.Set;

/**
 * Where the replayer stands in the outbox: its watermark and the ids of the events it applied at or
 * above it. Backlog and lag are computed against this, never against the watermark alone: while an
 * open transaction pins the horizon, the events applied above the watermark are not pending.
 *
 * @param watermark the replayer's watermark
 * @param applied ids applied at or above it (bounded by {@code replay.max_applied}); copied
 */
public record CursorState(long watermark, Set<Long> applied) {
    public CursorState {
        if (watermark < 0) {
            throw new IllegalArgumentException("watermark must be >= 0, got " + watermark);
        }
        applied = Set.copyOf(applied);
    }

    /** Backlog, lag and the horizon's holder relative to this state. */
    public OutboxStats stats(OutboxSource outbox) {
        return outbox.stats(watermark, applied);
    }
}
