package dev.roster.core.projection;

/** What {@link Projection#publish} did. Only {@link #ACTIVATED} changed anything. */
public enum PublishOutcome {
    /** The snapshot is now the bucket's active one and an invalidation was published. */
    ACTIVATED,
    /** The active snapshot's version is the same or newer; nothing was written. */
    SUPERSEDED,
    /** The bucket is retired; nothing was written. */
    RETIRED,
    /** The bucket was retired (and possibly reopened) after the ticket was allocated; nothing was written. */
    FENCED
}
