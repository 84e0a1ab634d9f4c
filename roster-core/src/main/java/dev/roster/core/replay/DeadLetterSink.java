package dev.roster.core.replay;

import dev.roster.core.outbox.OutboxEvent;

/**
 * Where the replayer parks an outbox event it cannot apply (the PostgreSQL dead-letter table in a
 * deployment). Implementations must be idempotent per event id. An exception thrown here means the
 * event could not be parked; the replayer then keeps it pending and tries again later, so no event
 * is ever dropped silently.
 */
@FunctionalInterface
public interface DeadLetterSink {
    /**
     * Records {@code event} as dead.
     *
     * @param event the event (a {@link OutboxEvent.Malformed} carries its stored payload)
     * @param error why it could not be applied (never contains credentials: events hold ids only)
     * @param attempts how often it was tried
     */
    void deadLetter(OutboxEvent event, String error, int attempts);
}
