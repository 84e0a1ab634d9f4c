package dev.roster.core.outbox;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The result of one outbox read: the horizon and the events, taken from the same database
 * snapshot.
 *
 * @param horizon {@code pg_snapshot_xmin} of the read's snapshot: no transaction below it can still
 *     commit, so every event with a lower transaction id that will ever exist was visible to this read
 * @param databaseNow the database clock at the read
 * @param events the events in reading order
 */
public record OutboxRead(long horizon, Instant databaseNow, List<OutboxEvent> events) {
    public OutboxRead {
        Objects.requireNonNull(databaseNow, "databaseNow");
        events = List.copyOf(events);
    }
}
