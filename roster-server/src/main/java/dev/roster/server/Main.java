package dev.roster.server;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code roster} command line. Exit codes: 0 success, 1 failure, 2 usage error. */
@Command(
        name = "roster",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Account-scheduling snapshots for AI API gateways.",
        subcommands = {
            ServeCommand.class,
            DemoCommand.class,
            MigrateCommand.class,
            RebuildCommand.class,
            OutboxCommand.class,
            BucketsCommand.class,
            AuditCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Runs the command line and exits with its code. */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (for tests). */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /** The configured command line, so tests can redirect its output. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            // Users get one line; the stack trace is for the debug log only.
            cmd.getErr().println("roster: " + describe(ex));
            return 1;
        });
        return cl;
    }

    static String describe(Throwable ex) {
        StringBuilder sb = new StringBuilder(String.valueOf(ex.getMessage()));
        Throwable c = ex.getCause();
        while (c != null && c != ex) {
            if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
                sb.append(": ").append(c.getMessage());
            }
            ex = c;
            c = c.getCause();
        }
        return sb.toString();
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Reports the build's version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"roster " + (v == null ? "dev" : v)};
        }
    }
}
