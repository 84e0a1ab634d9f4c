package dev.roster.core.source;

import dev.roster.core.AccountCard;
import dev.roster.core.outbox.OutboxRead;
import java.util.Map;
import java.util.Objects;

/**
 * One outbox batch together with the rows its events name, read from one database snapshot (see
 * {@link SchedulingSource#readBatch}).
 *
 * @param outbox the events and the horizon, as {@link dev.roster.core.outbox.OutboxSource#read} gives
 * @param accounts the card of every named account that exists and is not soft-deleted; a named id
 *     missing here is gone (deleted or soft-deleted) at the snapshot
 * @param groups every named group that exists and is not soft-deleted, whatever its status; a named
 *     id missing here is gone at the snapshot
 */
public record BatchRead(OutboxRead outbox, Map<Long, AccountCard> accounts, Map<Long, GroupInfo> groups) {
    public BatchRead {
        Objects.requireNonNull(outbox, "outbox");
        accounts = Map.copyOf(accounts);
        groups = Map.copyOf(groups);
    }
}
