package dev.roster.server;

import dev.roster.server.cli.RosterCommand;

/** The server jar's entry point: runs the {@code roster} command line ({@link RosterCommand}) and exits with its code. */
public final class Main {
    private Main() {}

    /** Runs the command line and exits with its code. */
    public static void main(String[] args) {
        System.exit(RosterCommand.run(args));
    }
}
