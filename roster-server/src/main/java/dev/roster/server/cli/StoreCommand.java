package dev.roster.server.cli;

import dev.roster.core.config.ConfigException;
import dev.roster.server.app.EmbeddedStores;
import dev.roster.server.app.LibraryBackend;
import dev.roster.server.app.Supervisor;
import dev.roster.server.config.ConfigLoader;
import dev.roster.server.config.RosterConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * Shared part of the commands that work on the configured (or embedded) stores: {@code --config},
 * loading and validating the configuration, starting embedded servers for what is not configured.
 * A configuration error ends the command with exit code {@value #EXIT_CONFIG} and one line.
 */
abstract class StoreCommand implements Callable<Integer> {
    /** Exit code of an invalid configuration (and of "could not audit"). */
    static final int EXIT_CONFIG = 2;

    @Option(
            names = {"-c", "--config"},
            paramLabel = "FILE",
            description = "YAML configuration (default ./roster.yaml when present, else built-in defaults);"
                    + " ROSTER_<KEY_PATH> environment variables win over it")
    @Nullable
    Path configFile;

    @SuppressWarnings("NullAway.Init") // picocli sets it before call()
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** Loads the configuration; warnings go to stderr. */
    ConfigLoader.Loaded load() {
        ConfigLoader.Loaded loaded = new ConfigLoader().load(configFile);
        for (String w : loaded.warnings()) {
            err().println("roster: warning: " + w);
        }
        return loaded;
    }

    @Override
    public final Integer call() throws Exception {
        ConfigLoader.Loaded loaded;
        try {
            loaded = load();
        } catch (ConfigException e) {
            err().println("roster: invalid configuration: " + e.getMessage());
            return EXIT_CONFIG;
        }
        return run(loaded);
    }

    /** The command's work with a valid configuration. */
    abstract Integer run(ConfigLoader.Loaded loaded) throws Exception;

    /** Embedded servers for what is not configured; their lines go to stderr (stdout is the command's output). */
    EmbeddedStores embedded(RosterConfig config) {
        PrintWriter e = err();
        return EmbeddedStores.start(config, e, false);
    }

    /** A started library over {@code resolved} (one attempt: a CLI command does not wait for stores). */
    LibraryBackend library(RosterConfig resolved) {
        return Supervisor.startNow(resolved);
    }
}
