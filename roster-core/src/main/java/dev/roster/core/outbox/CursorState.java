package dev.roster.core.outbox;

import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Where the replayer stands in the outbox: its watermark, the ids of the events it applied at or
 * above it, and what its overflow sweeps covered. Backlog and lag are computed against this, never
 * against the watermark alone: while an open transaction pins the horizon, the events applied above
 * the watermark are not pending, including those the bounded applied set no longer remembers.
 *
 * @param watermark the replayer's watermark
 * @param applied ids applied at or above it (bounded by {@code replay.max_applied}); copied
 * @param coveredSnapshot the snapshot at the start of the last completed overflow sweep, or {@code
 *     null}: every event of a transaction visible in it has been applied
 * @param sweepSnapshot the snapshot at the start of the sweep in progress, or {@code null}
 * @param sweepAfter how far the sweep in progress got, or {@code null}: every event at or before it
 *     whose transaction is visible in {@code sweepSnapshot} has been applied
 */
public record CursorState(
        long watermark,
        Set<Long> applied,
        @Nullable String coveredSnapshot,
        @Nullable String sweepSnapshot,
        @Nullable OutboxPosition sweepAfter) {
    public CursorState {
        if (watermark < 0) {
            throw new IllegalArgumentException("watermark must be >= 0, got " + watermark);
        }
        applied = Set.copyOf(applied);
        if (sweepAfter == null || sweepSnapshot == null) {
            sweepAfter = null;
            sweepSnapshot = null;
        }
    }

    /** A state without sweeps. */
    public CursorState(long watermark, Set<Long> applied) {
        this(watermark, applied, null, null, null);
    }

    /** Backlog, lag and the horizon's holder relative to this state. */
    public OutboxStats stats(OutboxSource outbox) {
        return outbox.stats(this);
    }
}
