package dev.roster.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The root command: what {@code roster --help} lists, and {@code bench} reached outside the launcher. */
class RosterCommandTest {

    @Test
    void help_lists_every_command_bench_included() {
        StringWriter out = new StringWriter();
        CommandLine cl = RosterCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));

        assertThat(cl.execute("--help")).isZero();

        assertThat(out.toString())
                .contains("Commands:")
                .containsPattern("(?m)^  serve ")
                .containsPattern("(?m)^  demo ")
                .containsPattern("(?m)^  bench ")
                .containsPattern("(?m)^  migrate ")
                .containsPattern("(?m)^  rebuild ")
                .containsPattern("(?m)^  outbox ")
                .containsPattern("(?m)^  buckets ")
                .containsPattern("(?m)^  audit ")
                .containsPattern("(?m)^  help ");
    }

    @Test
    void bench_outside_the_launcher_says_how_to_run_it() {
        StringWriter err = new StringWriter();
        CommandLine cl = RosterCommand.commandLine();
        cl.setErr(new PrintWriter(err, true));

        assertThat(cl.execute("bench", "--tiny", "replay")).isEqualTo(2);

        assertThat(err.toString().strip())
                .isEqualTo("roster: bench runs from the launcher in a clone of the repository: ./roster bench --tiny"
                        + " replay");
    }

    @Test
    void a_failure_is_its_message_and_its_causes_new_parts_on_one_line() {
        Exception e = new IllegalStateException(
                "could not listen on 0.0.0.0:80",
                new RuntimeException("bind failed", new java.net.BindException("Permission denied")));
        assertThat(ErrorChain.describe(e)).isEqualTo("could not listen on 0.0.0.0:80: bind failed: Permission denied");
        Exception repeated = new RuntimeException("x: Permission denied", new RuntimeException("Permission denied"));
        assertThat(ErrorChain.describe(repeated)).isEqualTo("x: Permission denied");
    }
}
