package dev.roster.core.replay;

import dev.roster.core.outbox.OutboxEvent;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How often each outbox event failed, and the events given up on: an event whose own work failed
 * {@code replay.max_attempts} times (a malformed row: once) is parked in the {@link DeadLetterSink}
 * and a full rebuild is requested to cover its effect. A parked event is left out of every later read
 * until the watermark passes it, so its rows are not read again. Used from the replay thread only.
 */
final class EventAttempts {
    private static final Logger LOG = LoggerFactory.getLogger(EventAttempts.class);

    private final DeadLetterSink sink;
    private final int maxAttempts;
    private final Consumer<String> compensate;
    private final Map<Long, Integer> attempts = new HashMap<>();
    /** Parked event id → its transaction id (to forget it once the watermark passed it). */
    private final Map<Long, Long> parked = new HashMap<>();

    private final AtomicLong deadLettered = new AtomicLong();

    EventAttempts(DeadLetterSink sink, int maxAttempts, Consumer<String> compensate) {
        this.sink = Objects.requireNonNull(sink, "sink");
        this.maxAttempts = maxAttempts;
        this.compensate = Objects.requireNonNull(compensate, "compensate");
    }

    boolean parked(long eventId) {
        return parked.containsKey(eventId);
    }

    /** The parked events still at or above the watermark. */
    Set<Long> parkedIds() {
        return parked.keySet();
    }

    /**
     * Counts one failure of {@code e}'s work.
     *
     * @return {@code true} when the event stays pending (tried again with its batch), {@code false}
     *     when it was parked now
     */
    boolean failed(OutboxEvent e, String error) {
        int n = attempts.merge(e.id(), 1, Integer::sum);
        if (n < maxAttempts && !(e instanceof OutboxEvent.Malformed)) {
            return true;
        }
        return !park(e, error, n);
    }

    private boolean park(OutboxEvent e, String error, int tries) {
        try {
            sink.deadLetter(e, error, tries);
        } catch (RuntimeException ex) {
            LOG.warn("dead-lettering outbox event {} failed: {}", e.id(), ex.getMessage());
            return false;
        }
        parked.put(e.id(), e.txid());
        attempts.remove(e.id());
        deadLettered.incrementAndGet();
        LOG.warn("outbox event {} dead-lettered after {} attempt(s): {}", e.id(), tries, error);
        compensate.accept("dead_letter");
        return true;
    }

    /** The events of an acknowledged batch start afresh (an id re-delivered later is a new chance). */
    void acknowledged(Collection<OutboxEvent> events) {
        for (OutboxEvent e : events) {
            attempts.remove(e.id());
        }
    }

    /** Forgets parked events below {@code watermark}: no read returns them again. */
    void passed(long watermark) {
        parked.values().removeIf(txid -> Long.compareUnsigned(txid, watermark) < 0);
    }

    int attempts(long eventId) {
        return attempts.getOrDefault(eventId, 0);
    }

    long deadLettered() {
        return deadLettered.get();
    }
}
