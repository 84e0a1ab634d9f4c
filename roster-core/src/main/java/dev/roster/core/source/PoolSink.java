package dev.roster.core.source;

import dev.roster.core.AccountCard;

/**
 * Receives the scheduling pool streamed by {@link SchedulingSource#loadPool}: first every group that
 * is not deleted, then the card of every account that is not deleted. An exception thrown here ends
 * the load and propagates unchanged.
 */
public interface PoolSink {

    /** A group that exists and is not soft-deleted, whatever its status. */
    void group(GroupInfo group);

    /** The card of an account that exists and is not soft-deleted, whatever its status; in id order. */
    void account(AccountCard card);
}
