package dev.roster.server.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code roster bench}: listed here so {@code roster --help} shows every command, but run by the
 * {@code ./roster} launcher from {@code roster-bench}'s own jar (that module depends on this one, so
 * the server jar cannot hold its main). Reached only through {@code java -jar roster-server.jar bench},
 * where it says how to run it instead.
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = {
            "Run the end-to-end performance harness and write its report (docs/bench/).",
            "Started by the ./roster launcher, which builds roster-bench on first use.",
            "./roster bench --help lists the harness's scenarios and options."
        })
final class BenchCommand implements Callable<Integer> {
    /** The harness's own scenarios and options, echoed in the hint. */
    @CommandLine.Unmatched
    List<String> args = new ArrayList<>();

    @SuppressWarnings("NullAway.Init") // picocli sets it before call()
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine()
                .getErr()
                .println("roster: bench runs from the launcher in a clone of the repository: ./roster bench"
                        + (args.isEmpty() ? "" : " " + String.join(" ", args)));
        return 2;
    }
}
