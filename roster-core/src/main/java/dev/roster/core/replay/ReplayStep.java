package dev.roster.core.replay;

/** What one {@link Replayer#pollOnce()} did. */
public enum ReplayStep {
    /** Another instance holds the replayer lease (or the lease could not be checked); nothing was read. */
    NOT_HOLDER,
    /** Nothing was pending; the watermark may have moved to the horizon. */
    IDLE,
    /** A batch was applied and the outbox is caught up (the read was short). */
    CAUGHT_UP,
    /** A full batch was applied; more events may be pending. */
    MORE,
    /** The batch failed; it will be retried after a back-off. */
    FAILED,
    /** A failed batch is waiting for its back-off to end; nothing was read. */
    BACKING_OFF
}
