package dev.roster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.testkit.RedisHarness;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README's library example is the compiled {@link ReadmeExample} region, and it runs. */
class ReadmeExampleTest {
    private static final Path ROOT = Path.of("..");

    @Test
    void theReadmeShowsExactlyTheCompiledExample() throws IOException {
        String source = Files.readString(Path.of("src/test/java/dev/roster/ReadmeExample.java"));
        Matcher m = Pattern.compile("// region readme\\n(.*?)\\n\\s*// endregion readme", Pattern.DOTALL)
                .matcher(source);
        assertThat(m.find()).as("region in ReadmeExample.java").isTrue();
        String region = dedent(m.group(1));

        String readme = Files.readString(ROOT.resolve("README.md"));
        Matcher b = Pattern.compile("<!-- readme-example -->\\n```java\\n(.*?)\\n```", Pattern.DOTALL)
                .matcher(readme);
        assertThat(b.find()).as("the marked java block in README.md").isTrue();
        assertThat(b.group(1)).isEqualTo(region);
    }

    @Test
    void theExampleRunsAgainstRealServers() {
        Servers servers = new Servers(ReadmeExampleTest.class, "readme");
        servers.openaiAccounts(3);
        long chosen = ReadmeExample.run(
                servers.db.jdbcUrl(),
                servers.db.user(),
                servers.db.password(),
                RedisHarness.shared().uri());
        assertThat(chosen).isEqualTo(servers.openaiIds().getFirst());
        // close() wrote the last-used time behind.
        assertThat(servers.ids("SELECT count(*) FROM accounts WHERE last_used_at IS NOT NULL AND id = " + chosen))
                .containsExactly(1L);
    }

    /** Removes the indentation common to every non-blank line. */
    static String dedent(String text) {
        List<String> lines = text.lines().toList();
        int indent = lines.stream()
                .filter(l -> !l.isBlank())
                .mapToInt(l -> l.length() - l.stripLeading().length())
                .min()
                .orElse(0);
        return String.join(
                "\n",
                lines.stream().map(l -> l.isBlank() ? "" : l.substring(indent)).toList());
    }
}
