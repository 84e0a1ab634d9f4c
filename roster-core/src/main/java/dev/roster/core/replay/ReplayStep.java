package dev.roster.core.replay;

/** What one {@link Replayer#pollOnce()} did. */
public enum ReplayStep {
    /** Another instance holds the replayer lease (or the lease could not be checked); nothing was read. */
    NOT_HOLDER,
    /** Nothing was pending; the watermark may have moved to the horizon. */
    IDLE,
    /** A batch was applied and the outbox is caught up (the read was short). */
    CAUGHT_UP,
    /**
     * More events may be pending: a full batch was applied, or a batch refused as a defect is to be
     * read again one event at a time. Poll again at once.
     */
    MORE,
    /** The batch failed; it will be retried after a back-off. */
    FAILED,
    /** A failed batch is waiting for its back-off to end; nothing was read. */
    BACKING_OFF,
    /**
     * The replay thread was interrupted (the service is closing) in the middle of a batch; the batch
     * is left unacknowledged for whoever replays next, without a retry here.
     */
    INTERRUPTED
}
