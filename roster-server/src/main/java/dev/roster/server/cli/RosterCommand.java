package dev.roster.server.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The root of the {@code roster} command line: its subcommands, help and version. Exit codes: 0
 * success, 1 failure, 2 usage or configuration error.
 */
@Command(
        name = "roster",
        mixinStandardHelpOptions = true,
        versionProvider = RosterCommand.Version.class,
        description = "Account-scheduling snapshots for AI API gateways.",
        subcommands = {
            ServeCommand.class,
            DemoCommand.class,
            BenchCommand.class,
            MigrateCommand.class,
            RebuildCommand.class,
            OutboxCommand.class,
            BucketsCommand.class,
            AuditCommand.class,
            CommandLine.HelpCommand.class
        })
public final class RosterCommand implements Runnable {
    @SuppressWarnings("NullAway.Init") // picocli sets it before run()
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Runs the command line and returns its exit code. */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /** The configured command line, so tests can redirect its output. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new RosterCommand());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            // Users get one line; the stack trace is for the debug log only.
            cmd.getErr().println("roster: " + ErrorChain.describe(ex));
            return 1;
        });
        return cl;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Reports the build's version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = RosterCommand.class.getPackage().getImplementationVersion();
            return new String[] {"roster " + (v == null ? "dev" : v)};
        }
    }
}
