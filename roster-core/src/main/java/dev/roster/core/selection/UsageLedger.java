package dev.roster.core.selection;

import java.time.Instant;
import java.util.Collection;
import java.util.Map;

/**
 * Last-used instants, kept beside the cards: the selector reads them to prefer the least
 * recently used account and moves them forward when it hands out a slot. The projection's {@code
 * lastUsed}/{@code markUsed} (or the snapshot service's last-used path) satisfy it as they are.
 */
public interface UsageLedger {

    /** The last-used instants of the accounts that have one; accounts never used are absent. */
    Map<Long, Instant> lastUsed(Collection<Long> accountIds);

    /** Moves each account's last-used forward to the given instant (never backwards). */
    void markUsed(Map<Long, Instant> lastUsed);

    /**
     * {@link #markUsed} for uses the {@link SelectionStore} already recorded in the shared last-used
     * ({@link SelectionStore#recordsLastUsed()}): a ledger that writes the same shared value may keep only
     * its local copy (and its write-behind). The default moves everything as {@link #markUsed} does.
     */
    default void noteUsed(Map<Long, Instant> lastUsed) {
        markUsed(lastUsed);
    }
}
