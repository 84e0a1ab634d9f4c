package dev.roster.server.cli;

import dev.roster.core.Bucket;
import dev.roster.server.app.EmbeddedStores;
import dev.roster.server.app.LibraryBackend;
import dev.roster.server.config.ConfigLoader;
import picocli.CommandLine.Command;

/** {@code roster buckets}: the buckets registered in the projection. */
@Command(
        name = "buckets",
        mixinStandardHelpOptions = true,
        description = "List the buckets registered in the Redis projection.")
final class BucketsCommand extends StoreCommand {
    @Override
    Integer run(ConfigLoader.Loaded loaded) {
        try (EmbeddedStores stores = embedded(loaded.config());
                LibraryBackend lib = library(stores.resolved())) {
            int n = 0;
            for (Bucket b : lib.buckets()) {
                out().println(b.text());
                n++;
            }
            err().println("roster: " + n + " buckets");
            return 0;
        }
    }
}
