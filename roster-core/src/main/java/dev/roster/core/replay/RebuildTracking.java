package dev.roster.core.replay;

import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the replay thread did while one full rebuild ran: the accounts and groups its batches named
 * (read after the rebuild started tracking, so possibly newer than the rebuild's bulk load: the new
 * model re-reads them before it is adopted), and the accounts whose card it wrote (the rebuild does not
 * overwrite those with its older read). Card writes and the rebuild's card chunks are serialised by
 * {@link #cardLock()}, so a card is either written by the replay after the rebuild's chunk, or skipped by
 * it. Thread-safe.
 */
final class RebuildTracking {
    private final Set<Long> namedAccounts = ConcurrentHashMap.newKeySet();
    private final Set<Long> namedGroups = ConcurrentHashMap.newKeySet();
    private final Set<Long> writtenCards = ConcurrentHashMap.newKeySet();
    private final Object cardLock = new Object();

    void named(Collection<Long> accounts, Collection<Long> groups) {
        namedAccounts.addAll(accounts);
        namedGroups.addAll(groups);
    }

    Set<Long> namedAccounts() {
        return namedAccounts;
    }

    Set<Long> namedGroups() {
        return namedGroups;
    }

    /** Call under {@link #cardLock()} right before writing or deleting the cards. */
    void wroteCards(Collection<Long> ids) {
        writtenCards.addAll(ids);
    }

    boolean cardWritten(long id) {
        return writtenCards.contains(id);
    }

    Object cardLock() {
        return cardLock;
    }
}
