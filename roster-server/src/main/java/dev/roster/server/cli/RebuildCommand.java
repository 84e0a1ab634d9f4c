package dev.roster.server.cli;

import dev.roster.core.Bucket;
import dev.roster.server.app.EmbeddedStores;
import dev.roster.server.app.LibraryBackend;
import dev.roster.server.config.ConfigLoader;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code roster rebuild}: rebuilds one bucket or the whole projection from PostgreSQL. */
@Command(
        name = "rebuild",
        mixinStandardHelpOptions = true,
        description = "Rebuild one bucket (--bucket g:p:m) or every bucket and card (--all) from PostgreSQL.")
final class RebuildCommand extends StoreCommand {
    static final class Target {
        @Option(names = "--bucket", paramLabel = "G:P:M", description = "one bucket, e.g. 0:anthropic:mixed")
        @Nullable
        String bucket;

        @Option(names = "--all", description = "every bucket and card (the full rebuild)")
        boolean all;
    }

    @SuppressWarnings("NullAway.Init") // picocli sets it (multiplicity 1) before call()
    @ArgGroup(multiplicity = "1")
    Target target;

    @Override
    Integer run(ConfigLoader.Loaded loaded) {
        Bucket b = null;
        if (target.bucket != null) {
            try {
                b = Bucket.parse(target.bucket);
            } catch (IllegalArgumentException e) {
                err().println("roster: --bucket must be g:p:m, e.g. 0:anthropic:mixed: " + e.getMessage());
                return 2;
            }
        }
        try (EmbeddedStores stores = embedded(loaded.config());
                LibraryBackend lib = library(stores.resolved())) {
            long t0 = System.nanoTime();
            if (b != null) {
                boolean current = lib.rebuildBucket(b);
                out().println(b.text()
                        + (current ? " rebuilt" : " retired (its group is not active)")
                        + String.format(" in %.1f ms", (System.nanoTime() - t0) / 1e6));
            } else {
                if (!lib.rebuildAll(Duration.ofMinutes(10))) {
                    err().println("roster: the full rebuild did not finish within 10 minutes");
                    return 1;
                }
                out().println("full rebuild done in " + String.format("%.1f s", (System.nanoTime() - t0) / 1e9) + ", "
                        + lib.buckets().size() + " buckets registered");
            }
            return 0;
        }
    }
}
