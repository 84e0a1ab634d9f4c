package dev.roster.core.outbox;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The result of one outbox read: the horizon and the events, taken from the same database
 * snapshot.
 *
 * @param horizon {@code pg_snapshot_xmin} of the read's snapshot: no transaction below it can still
 *     commit, so every event with a lower transaction id that will ever exist was visible to this read
 * @param databaseNow the database clock at the read
 * @param events the events in reading order
 * @param snapshot the read's snapshot as {@code pg_snapshot} text ({@code xmin:xmax:xip,...}), or
 *     {@code null} when the source has none: every event of a transaction visible in it was visible to
 *     this read
 */
public record OutboxRead(
        long horizon,
        Instant databaseNow,
        List<OutboxEvent> events,
        @Nullable String snapshot) {
    public OutboxRead {
        Objects.requireNonNull(databaseNow, "databaseNow");
        events = List.copyOf(events);
    }

    /** A read without a snapshot text. */
    public OutboxRead(long horizon, Instant databaseNow, List<OutboxEvent> events) {
        this(horizon, databaseNow, events, null);
    }
}
