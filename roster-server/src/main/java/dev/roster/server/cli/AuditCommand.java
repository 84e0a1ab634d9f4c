package dev.roster.server.cli;

import dev.roster.core.audit.AuditReport;
import dev.roster.core.audit.Drift;
import dev.roster.server.app.EmbeddedStores;
import dev.roster.server.app.LibraryBackend;
import dev.roster.server.config.ConfigLoader;
import picocli.CommandLine.Command;

/** {@code roster audit}: the projection against the bucket query. Exit 0 clean, 1 drift, 2 could not audit. */
@Command(
        name = "audit",
        mixinStandardHelpOptions = true,
        description = {
            "Compare every registered bucket's Redis snapshot with the bucket query on PostgreSQL.",
            "Exit code: 0 no drift, 1 drift found (printed), 2 could not audit."
        })
final class AuditCommand extends StoreCommand {
    @Override
    Integer run(ConfigLoader.Loaded loaded) {
        AuditReport r;
        try (EmbeddedStores stores = embedded(loaded.config());
                LibraryBackend lib = library(stores.resolved())) {
            r = lib.audit();
        } catch (RuntimeException e) {
            err().println("roster: could not audit: " + ErrorChain.describe(e));
            return 2;
        }
        for (Drift d : r.drifts()) {
            out().println("drift " + d.bucket().text() + " " + d.kind().name().toLowerCase(java.util.Locale.ROOT) + ": "
                    + d.detail() + " (expected " + d.expected() + ", snapshot " + d.actual() + ")");
        }
        out().println("audit: " + r.checked() + " buckets checked, "
                + r.drifts().size() + " with drift, " + r.unstable().size() + " changing, "
                + r.missing().size() + " without snapshot");
        return r.exitCode();
    }
}
