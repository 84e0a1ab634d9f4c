package dev.roster.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Option checking of the demo; the tour itself is run from the built jar by {@code DemoIT}. */
class DemoCommandTest {

    @Test
    void bad_option_value_is_one_line_naming_the_option() {
        StringWriter err = new StringWriter();
        CommandLine cl = RosterCommand.commandLine();
        cl.setErr(new PrintWriter(err, true));

        int code = cl.execute("demo", "--accounts-per-platform", "3");

        assertThat(code).isEqualTo(1);
        assertThat(err.toString().strip())
                .startsWith("roster: --accounts-per-platform")
                .doesNotContain("\tat ");
    }
}
