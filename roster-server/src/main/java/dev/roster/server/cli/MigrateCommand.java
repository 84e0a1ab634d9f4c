package dev.roster.server.cli;

import dev.roster.postgres.Migrator;
import dev.roster.server.app.EmbeddedStores;
import dev.roster.server.config.ConfigLoader;
import dev.roster.server.config.RosterConfig;
import picocli.CommandLine.Command;

/** {@code roster migrate}: applies Roster's schema migrations (capture triggers included). */
@Command(
        name = "migrate",
        mixinStandardHelpOptions = true,
        description = "Apply Roster's PostgreSQL migrations (tables, capture triggers) and print the schema version.")
final class MigrateCommand extends StoreCommand {
    @Override
    Integer run(ConfigLoader.Loaded loaded) {
        RosterConfig c = loaded.config();
        // Only PostgreSQL is needed: no embedded Redis for this.
        try (EmbeddedStores stores = EmbeddedStores.start(c, err()::println, false, false)) {
            Migrator.Result r = Migrator.migrate(
                    stores.resolved().database().resolvedUrl(),
                    stores.resolved().database().user(),
                    stores.resolved().database().password());
            out().println("migrations applied: " + r.applied() + ", schema version " + r.version());
            return 0;
        }
    }
}
