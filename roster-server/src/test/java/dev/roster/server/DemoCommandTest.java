package dev.roster.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DemoCommandTest {

    @Test
    void demo_prints_every_canonical_bucket_with_blocked_accounts_held_back() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));

        int code = cl.execute("demo");

        String text = out.toString();
        assertThat(code).as(err.toString()).isZero();
        assertThat(text)
                .contains("2 migrations applied")
                .contains("0:anthropic:mixed")
                .contains("0:openai:single")
                .contains("1:anthropic:mixed")
                .contains("held back now:")
                .containsPattern("6:anthropic:mixed +0 listed +\\(empty\\)")
                .contains("Demo finished");
        // mixed buckets borrow antigravity accounts flagged for mixed scheduling only
        String mixedLine = text.lines()
                .filter(l -> l.startsWith("0:anthropic:mixed"))
                .findFirst()
                .orElseThrow();
        assertThat(mixedLine).doesNotContain("antigravity-01#");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void bad_option_value_is_one_line_naming_the_option() {
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err, true));

        int code = cl.execute("demo", "--accounts-per-platform", "3");

        assertThat(code).isEqualTo(1);
        assertThat(err.toString().strip())
                .startsWith("roster: --accounts-per-platform")
                .doesNotContain("\tat ");
    }
}
