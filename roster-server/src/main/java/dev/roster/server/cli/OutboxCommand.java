package dev.roster.server.cli;

import dev.roster.core.outbox.OutboxStats;
import dev.roster.postgres.DeadLetterRepository.DeadLetter;
import dev.roster.server.app.Backend;
import dev.roster.server.app.EmbeddedStores;
import dev.roster.server.app.LibraryBackend;
import dev.roster.server.config.ConfigLoader;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code roster outbox}: the outbox's state, its dead letters, and retrying one. */
@Command(
        name = "outbox",
        mixinStandardHelpOptions = true,
        description = {
            "Outbox state and dead letters.",
            "  outbox [status]        watermark, horizon, pending events, lag, dead letters",
            "  outbox dead-letters    dead-lettered events with their error",
            "  outbox retry ID        remove dead letter ID and run the full rebuild that applies its change"
        })
final class OutboxCommand extends StoreCommand {
    @SuppressWarnings("NullAway.Init") // picocli sets it (it has a default) before call()
    @Parameters(
            index = "0",
            arity = "0..1",
            paramLabel = "ACTION",
            defaultValue = "status",
            description = "status (default), dead-letters or retry")
    String action;

    @Parameters(index = "1", arity = "0..1", paramLabel = "ID", description = "event id for retry")
    @Nullable
    Long id;

    @Override
    Integer run(ConfigLoader.Loaded loaded) {
        if (!List.of("status", "dead-letters", "retry").contains(action)) {
            err().println("roster: outbox ACTION must be status, dead-letters or retry, got '" + action + "'");
            return 2;
        }
        if (action.equals("retry") && (id == null || id <= 0)) {
            err().println("roster: outbox retry needs a positive event ID");
            return 2;
        }
        try (EmbeddedStores stores = embedded(loaded.config());
                LibraryBackend lib = library(stores.resolved())) {
            switch (action) {
                case "status" -> {
                    Backend.OutboxStatus o = lib.outbox();
                    OutboxStats s = o.stats();
                    out().println("watermark       " + s.watermark());
                    out().println("horizon         " + s.horizon());
                    out().println("pending         " + s.pending());
                    out().println("lag             "
                            + (s.lag() == null ? "-" : s.lag().toMillis() / 1000.0 + " s"));
                    out().println("horizon age     "
                            + (s.horizonAge() == null ? "-" : s.horizonAge().toMillis() / 1000.0 + " s")
                            + (s.horizonHolderPid() == null ? "" : " (held by pid " + s.horizonHolderPid() + ")"));
                    out().println("dead letters    " + o.deadLetters());
                }
                case "dead-letters" -> {
                    List<DeadLetter> dead = lib.deadLetters(1000);
                    if (dead.isEmpty()) {
                        out().println("no dead letters");
                    }
                    for (DeadLetter d : dead) {
                        out().println(d.eventId() + "  " + d.eventType() + "  attempts=" + d.attempts() + "  last="
                                + d.lastFailedAt() + "  error=" + d.error());
                    }
                }
                default -> {
                    if (!lib.retryDeadLetter(Objects.requireNonNull(id, "checked above"))) {
                        err().println("roster: no dead letter for event " + id);
                        return 1;
                    }
                    out().println("dead letter " + id + " removed; full rebuild requested");
                }
            }
            return 0;
        }
    }
}
