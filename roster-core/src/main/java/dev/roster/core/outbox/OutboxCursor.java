package dev.roster.core.outbox;

import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * A reader's place in the outbox: the watermark and the bounded set of events applied above it
 * (docs/architecture.md, "Reading the outbox without skips"). Use it from one thread: {@link #next()} reads a batch,
 * the caller applies it, and {@link #acknowledge(Batch)} records it and moves the watermark.
 *
 * <p>Guarantees: no committed event is ever skipped, whatever the commit order; while the applied
 * set stays under its bound no event is returned twice by one cursor; a new cursor started from a
 * persisted {@link #watermark()} returns only events at or above it again.
 *
 * <p>When a transaction left open pins the horizon, applied events above the watermark accumulate.
 * Past {@code maxApplied} the set stops growing and the cursor sweeps the outbox from the watermark
 * in keyset order instead, re-delivering events it could not remember (at-least-once, handlers are
 * idempotent), until the horizon moves and the set drains.
 */
public final class OutboxCursor {
    /**
     * How the cursor reads: {@link OutboxSource#read}'s contract (one snapshot, {@code (txid, id)}
     * order, {@code excludedIds} and everything at or before {@code after} left out). A reader may read
     * more in the same snapshot (the rows the events name); the cursor only needs the events.
     */
    @FunctionalInterface
    public interface Reader {
        OutboxRead read(long watermark, Set<Long> excludedIds, @Nullable OutboxPosition after, int limit);
    }

    private final OutboxSource source;
    private final Reader reader;
    private final int maxApplied;
    private final int batchSize;

    private long watermark;
    private final Set<Long> appliedIds = new HashSet<>();
    private final TreeSet<OutboxPosition> appliedOrder = new TreeSet<>();
    private final Set<Long> appliedView = Collections.unmodifiableSet(appliedIds);

    /** Keyset position of the overflow sweep in progress, or null. */
    private @Nullable OutboxPosition sweepAfter;
    /** Horizon seen by the first read of the overflow sweep in progress. */
    private long sweepHorizon;
    /** Snapshot of the first read of the overflow sweep in progress. */
    private @Nullable String sweepSnapshot;
    /** Snapshot of the first read of the last completed overflow sweep. */
    private @Nullable String coveredSnapshot;

    private long readSequence;

    /**
     * @param source the outbox
     * @param watermark where to start (a persisted watermark, or 0 for the beginning)
     * @param maxApplied bound of the applied set, {@code >= 1}
     * @param batchSize events per read, {@code >= 1}
     */
    public OutboxCursor(OutboxSource source, long watermark, int maxApplied, int batchSize) {
        this(source, source::read, watermark, maxApplied, batchSize);
    }

    /**
     * A cursor that reads its batches through {@code reader} (which may read the rows the events name in
     * the same snapshot) and its figures from {@code source}.
     */
    public OutboxCursor(OutboxSource source, Reader reader, long watermark, int maxApplied, int batchSize) {
        this.source = Objects.requireNonNull(source, "source");
        this.reader = Objects.requireNonNull(reader, "reader");
        if (watermark < 0) {
            throw new IllegalArgumentException("watermark must be >= 0, got " + watermark);
        }
        if (maxApplied < 1) {
            throw new IllegalArgumentException("maxApplied must be >= 1, got " + maxApplied);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        }
        this.watermark = watermark;
        this.maxApplied = maxApplied;
        this.batchSize = batchSize;
    }

    /** The watermark: every event with a lower transaction id has been applied. Persist it after a batch. */
    public long watermark() {
        return watermark;
    }

    /** Ids of events applied at or above the watermark (read-only view). */
    public Set<Long> applied() {
        return appliedView;
    }

    /** Whether the applied set is full and the cursor is re-reading instead of remembering. */
    public boolean overflowing() {
        return appliedIds.size() >= maxApplied;
    }

    /** Reads the next batch; an empty batch means nothing is pending now. */
    public Batch next() {
        return next(reader, batchSize);
    }

    /**
     * Reads the next batch of at most {@code limit} events through {@code with} instead of the
     * cursor's reader and batch size (to isolate an event, or to read the events without their rows).
     * The batch is acknowledged like any other.
     */
    public Batch next(Reader with, int limit) {
        Objects.requireNonNull(with, "with");
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be >= 1, got " + limit);
        }
        boolean overflow = overflowing();
        OutboxPosition after = overflow ? sweepAfter : null;
        OutboxRead read = with.read(watermark, appliedView, after, limit);
        List<OutboxEvent> events = read.events();
        boolean full = events.size() >= limit;
        // A full batch may have left visible events behind its last position, so the watermark can
        // only reach that position's transaction; a short one saw everything below the horizon.
        // During a sweep the bound is the horizon of the sweep's first read: events that became
        // visible later may sit behind the keyset position.
        long bound = overflow && after != null ? sweepHorizon : read.horizon();
        long proposed = full ? Math.min(bound, events.getLast().txid()) : bound;
        long horizonForSweep = overflow && after == null ? read.horizon() : sweepHorizon;
        String snapshotForSweep = overflow && after == null ? read.snapshot() : sweepSnapshot;
        return new Batch(++readSequence, read, proposed, full, overflow, horizonForSweep, snapshotForSweep);
    }

    /**
     * Records {@code batch} as applied and moves the watermark. Only the latest batch from {@link
     * #next()} may be acknowledged; an unacknowledged batch is simply read again.
     */
    public void acknowledge(Batch batch) {
        if (batch.sequence != readSequence) {
            throw new IllegalStateException("only the latest batch can be acknowledged (got read #" + batch.sequence
                    + ", latest is #" + readSequence + ")");
        }
        for (OutboxEvent e : batch.read.events()) {
            if (appliedIds.size() >= maxApplied) {
                break;
            }
            if (Long.compareUnsigned(e.txid(), batch.proposedWatermark) >= 0 && appliedIds.add(e.id())) {
                appliedOrder.add(e.position());
            }
        }
        if (batch.overflow) {
            sweepHorizon = batch.sweepHorizon;
            sweepSnapshot = batch.sweepSnapshot;
            sweepAfter = batch.full ? batch.read.events().getLast().position() : null;
            if (!batch.full) {
                // The sweep is complete: every event visible at its first read was delivered.
                coveredSnapshot = batch.sweepSnapshot;
            }
        } else {
            sweepAfter = null;
        }
        if (Long.compareUnsigned(batch.proposedWatermark, watermark) > 0) {
            watermark = batch.proposedWatermark;
            while (!appliedOrder.isEmpty()
                    && Long.compareUnsigned(appliedOrder.first().txid(), watermark) < 0) {
                appliedIds.remove(appliedOrder.pollFirst().id());
            }
        }
    }

    /** Pending count, lag and horizon holder relative to this cursor. */
    public OutboxStats stats() {
        return source.stats(state());
    }

    /** A copy of what this cursor knows to be applied, for figures taken on other threads or instances. */
    public CursorState state() {
        return new CursorState(watermark, appliedIds, coveredSnapshot, sweepSnapshot, sweepAfter);
    }

    /**
     * A batch read by {@link #next()}.
     */
    public static final class Batch {
        private final long sequence;
        private final OutboxRead read;
        private final long proposedWatermark;
        private final boolean full;
        private final boolean overflow;
        private final long sweepHorizon;
        private final @Nullable String sweepSnapshot;

        Batch(
                long sequence,
                OutboxRead read,
                long proposedWatermark,
                boolean full,
                boolean overflow,
                long sweepHorizon,
                @Nullable String sweepSnapshot) {
            this.sweepSnapshot = sweepSnapshot;
            this.sequence = sequence;
            this.read = read;
            this.proposedWatermark = proposedWatermark;
            this.full = full;
            this.overflow = overflow;
            this.sweepHorizon = sweepHorizon;
        }

        /** The events, in {@code (txid, id)} order. */
        public List<OutboxEvent> events() {
            return read.events();
        }

        /** The horizon read with the events. */
        public long horizon() {
            return read.horizon();
        }

        /** The watermark acknowledging this batch will move to (never lower than the current one). */
        public long watermarkAfter() {
            return proposedWatermark;
        }

        /** Whether the read returned as many events as it asked for (more may be pending). */
        public boolean full() {
            return full;
        }

        /** Whether the batch is empty. */
        public boolean isEmpty() {
            return read.events().isEmpty();
        }
    }
}
