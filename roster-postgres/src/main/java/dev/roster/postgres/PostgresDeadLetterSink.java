package dev.roster.postgres;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.roster.core.outbox.OutboxEvent;
import dev.roster.core.replay.DeadLetterSink;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The replayer's {@link DeadLetterSink} over the {@code scheduler_outbox_dead_letter} table
 * ({@link DeadLetterRepository}): records the event's type, account id, error and attempts;
 * recording the same event again updates it (idempotent per event id, as the port requires). The
 * stored payload is kept only for a {@link OutboxEvent.Malformed} row (the other events carry ids
 * only); a payload that is not JSON is stored as a JSON string so the {@code jsonb} column accepts it.
 */
public final class PostgresDeadLetterSink implements DeadLetterSink {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final DeadLetterRepository repository;

    /** A sink writing through {@code repository}. */
    public PostgresDeadLetterSink(DeadLetterRepository repository) {
        this.repository = Objects.requireNonNull(repository, "repository");
    }

    @Override
    public void deadLetter(OutboxEvent e, String error, int attempts) {
        repository.record(new DeadLetterRepository.DeadLetter(
                e.id(), type(e), accountId(e), null, payload(e), error, attempts, e.createdAt(), null, null));
    }

    private static String type(OutboxEvent e) {
        return switch (e) {
            case OutboxEvent.AccountChanged a -> OutboxEvent.ACCOUNT_CHANGED;
            case OutboxEvent.AccountBulkChanged a -> OutboxEvent.ACCOUNT_BULK_CHANGED;
            case OutboxEvent.AccountGroupsChanged a -> OutboxEvent.ACCOUNT_GROUPS_CHANGED;
            case OutboxEvent.GroupChanged g -> OutboxEvent.GROUP_CHANGED;
            case OutboxEvent.FullRebuild f -> OutboxEvent.FULL_REBUILD;
            case OutboxEvent.AccountLastUsed u -> OutboxEvent.ACCOUNT_LAST_USED;
            case OutboxEvent.Unknown u -> u.eventType();
            case OutboxEvent.Malformed m -> m.eventType();
        };
    }

    private static @Nullable Long accountId(OutboxEvent e) {
        return e instanceof OutboxEvent.AccountChanged a ? a.accountId() : null;
    }

    /** The stored payload of a malformed row (jsonb, so valid JSON), else null (the ids are in the event). */
    private static @Nullable String payload(OutboxEvent e) {
        if (e instanceof OutboxEvent.Malformed m && m.payload() != null) {
            try {
                JSON.readTree(m.payload());
                return m.payload();
            } catch (JsonProcessingException notJson) {
                try {
                    return JSON.writeValueAsString(m.payload());
                } catch (JsonProcessingException ignored) {
                    return null;
                }
            }
        }
        return null;
    }
}
