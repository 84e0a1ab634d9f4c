package dev.roster.core.projection;

/** What {@link Projection#advanceWatermark} did. Only {@link #ADVANCED} changed anything. */
public enum WatermarkOutcome {
    /** The watermark moved forward to the given value. */
    ADVANCED,
    /** The stored watermark is already at or beyond the given value; it was left as is. */
    NOT_NEWER,
    /** The caller does not hold the replayer lease (expired, released or taken over); nothing was written. */
    FENCED
}
