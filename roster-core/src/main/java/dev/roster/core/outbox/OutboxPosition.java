package dev.roster.core.outbox;

/**
 * A place in the outbox's reading order: by transaction id, then by row id.
 *
 * @param txid the writing transaction's id
 * @param id the row id
 */
public record OutboxPosition(long txid, long id) implements Comparable<OutboxPosition> {
    @Override
    public int compareTo(OutboxPosition o) {
        int c = Long.compareUnsigned(txid, o.txid);
        return c != 0 ? c : Long.compare(id, o.id);
    }
}
