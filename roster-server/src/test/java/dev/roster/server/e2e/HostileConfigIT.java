package dev.roster.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.config.ConfigException;
import dev.roster.server.config.ConfigKeys;
import dev.roster.server.config.ConfigLoader;
import dev.roster.server.config.Secrets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.GenerationMode;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Hostile input on the config file: generated YAML (known and junk keys, sub2api scheduling
 * keys, values of every wrong type, deep nesting, aliases, tags, binary, truncation) through the
 * config loader in-process: it either loads or throws one {@link ConfigException} whose message is one
 * line starting with the key it names, never shows a secret value, and never anything else (a stack
 * trace). A few of the same shapes through the real jar: exit code 2, one line, secrets masked.
 */
class HostileConfigIT {
    /** Every value under a secret-looking key (and every URL password) carries this marker. */
    static final String MARK = "S3CR3T";

    static Path dir;
    static final AtomicLong LOADED = new AtomicLong();
    static final AtomicLong REJECTED = new AtomicLong();
    static final List<String> REPORT = new ArrayList<>();

    @BeforeContainer
    static void setUp() throws IOException {
        Files.createDirectories(Path.of("target"));
        dir = Files.createTempDirectory(Path.of("target"), "hostile-config-");
    }

    @AfterContainer
    static void report() throws IOException {
        List<String> rows = new ArrayList<>();
        rows.add("| `HostileConfigIT.generatedYamlLoadsOrFailsWithOneLineNamingTheKey` | 200 tries, in-process"
                + " ConfigLoader | " + (LOADED.get() + REJECTED.get()) + " | " + REJECTED.get()
                + " | 0 stack traces | 0 | - | - |");
        rows.addAll(REPORT);
        Path out = Path.of("target", "reliability");
        Files.createDirectories(out);
        Files.write(out.resolve("hostile-config.md"), rows);
        rows.forEach(System.out::println);
    }

    // ---------------------------------------------------------------- generators

    static final List<String> KNOWN = List.copyOf(ConfigKeys.ALL.keySet());

    /** A key path: a known key, a known section with a junk leaf, a sub2api scheduling key, or junk. */
    Arbitrary<String> keyPaths() {
        Arbitrary<String> junkName = Arbitraries.oneOf(
                Arbitraries.strings()
                        .alpha()
                        .numeric()
                        .withChars('_', '-')
                        .ofMinLength(1)
                        .ofMaxLength(16),
                Arbitraries.strings().ofMinLength(1).ofMaxLength(12),
                Arbitraries.of("", " ", "<<", "?", "-", ":", "#x", "&a", "*a", "!!str", "é", "😀", "a.b", "\t"));
        Arbitrary<String> section =
                Arbitraries.of(KNOWN).map(k -> k.contains(".") ? k.substring(0, k.lastIndexOf('.')) : k);
        return Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.of(KNOWN)),
                Tuple.of(2, Combinators.combine(section, junkName).as((s, j) -> s + "." + j)),
                Tuple.of(2, junkName.map(j -> ConfigKeys.SCHEDULING + j)),
                Tuple.of(1, junkName),
                Tuple.of(1, Combinators.combine(junkName, junkName).as((a, b) -> a + "." + b)));
    }

    Arbitrary<String> scalars() {
        return Arbitraries.oneOf(
                Arbitraries.of(
                        "0",
                        "-1",
                        "1",
                        "65536",
                        "99999999999999999999999",
                        "1e400",
                        "-0.5",
                        ".nan",
                        ".inf",
                        "0x1F",
                        "0o17",
                        "true",
                        "no",
                        "null",
                        "~",
                        "\"\"",
                        "5s",
                        "-5s",
                        "1h30m",
                        "500",
                        "1y",
                        "all",
                        "simple",
                        "localhost",
                        "0.0.0.0",
                        "\"redis://:" + MARK + "pw@cache:6379\"",
                        "\"postgres://u:" + MARK + "pw@db:5432/x\"",
                        "\"http://:" + MARK + "pw@[::1\"",
                        "!!binary SGVsbG8gd29ybGQ=",
                        "!!int \"x\"",
                        "!!float \"y\"",
                        "!!java.net.URL [\"http://x\"]",
                        "!!set {a, b}",
                        "&anchor 5",
                        "*anchor",
                        "*nosuch",
                        "[1, 2]",
                        "{a: 1}",
                        "|\n    line one\n    line two",
                        "\"two\\nlines\"",
                        "\"tab\\there\"",
                        "\"nul\\0here\"",
                        "\"bell\\a\\e\\u2028sep\""),
                Arbitraries.longs().map(String::valueOf),
                Arbitraries.strings().ofMaxLength(30).map(HostileConfigIT::quote),
                Arbitraries.integers().between(2000, 8000).map(n -> quote("v".repeat(n))));
    }

    /** One "path: value" entry, the value marked when the key looks secret. */
    Arbitrary<String[]> entries() {
        return Combinators.combine(keyPaths(), scalars(), Arbitraries.integers().between(0, 3))
                .as((k, v, nest) -> {
                    String value = v;
                    if (Secrets.looksSecret(k) && !v.contains(MARK)) {
                        value = quote(MARK + "-" + v.replace("\"", ""));
                    }
                    // a value nested further below a key (a mapping where a scalar belongs)
                    for (int i = 0; i < nest; i++) {
                        value = "{deeper: " + value.replace("\n", " ") + "}";
                    }
                    return new String[] {k, value};
                });
    }

    @Provide
    Arbitrary<byte[]> documents() {
        Arbitrary<String> tree = entries().list().ofMinSize(1).ofMaxSize(8).map(HostileConfigIT::emit);
        Arbitrary<String> truncated = tree.filter(s -> s.length() > 2)
                .flatMap(s -> Arbitraries.integers().between(1, s.length() - 1).map(i -> s.substring(0, i)));
        Arbitrary<String> odd = Arbitraries.of(
                // billion laughs: aliases multiplying
                """
                a: &a [x, x, x, x, x, x, x, x, x]
                b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
                c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
                d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
                server: [*d, *d, *d, *d, *d, *d, *d, *d, *d]
                """,
                "server:\n  port: 1\n  port: 2\n",
                "server:\n\tport: 1\n",
                "server: &s\n  port: 1\nredis: *s\n",
                "<<: {server: {port: 1}}\n",
                "--- \nserver: {}\n---\nredis: {}\n",
                "%YAML 9.9\n---\nserver: {}\n",
                "!!map\nserver: !!str\n  port: 1\n",
                "server:\n  admin_token: &t \"" + MARK + "-token-0123456789\"\n  api_token: *t\n  host: *t\n",
                "server:\n  admin_token: \"" + MARK + "-a\\nb-0123456789\"\n",
                "database:\n  password: [\"" + MARK + "-in-a-list\"]\n",
                "[\"a\", \"b\"]\n",
                "just a string\n",
                "42\n",
                "? [complex, key]\n: value\n",
                "server: " + "[".repeat(2000) + "\n",
                "gateway:\n  scheduling:\n" + "    x:\n".repeat(1) + "      y: " + "{a: ".repeat(500) + "1"
                        + "}".repeat(500) + "\n");
        Arbitrary<String> deep = Arbitraries.integers().between(50, 3000).map(n -> {
            StringBuilder b = new StringBuilder("gateway:\n  scheduling:\n    deep: ");
            b.append("{k: ".repeat(n)).append("1").append("}".repeat(n)).append('\n');
            return b.toString();
        });
        Arbitrary<byte[]> binary = Arbitraries.bytes().array(byte[].class).ofMaxSize(200);
        Arbitrary<byte[]> badUtf8 = Arbitraries.of(
                new byte[] {
                    's',
                    'e',
                    'r',
                    'v',
                    'e',
                    'r',
                    ':',
                    '\n',
                    ' ',
                    ' ',
                    'h',
                    'o',
                    's',
                    't',
                    ':',
                    ' ',
                    (byte) 0xC3,
                    (byte) 0x28,
                    '\n'
                },
                new byte[] {(byte) 0xFF, (byte) 0xFE, 's', 0, ':', 0},
                new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, 's', 'e', 'r', 'v', 'e', 'r', ':', ' ', '{', '}'},
                new byte[] {'a', ':', ' ', 0, 1, 2, 3});
        return Arbitraries.frequencyOf(
                Tuple.of(8, tree.map(HostileConfigIT::utf8)),
                Tuple.of(2, truncated.map(HostileConfigIT::utf8)),
                Tuple.of(2, odd.map(HostileConfigIT::utf8)),
                Tuple.of(1, deep.map(HostileConfigIT::utf8)),
                Tuple.of(1, binary),
                Tuple.of(1, badUtf8));
    }

    /** Emits entries as nested block mappings (sections shared), keys quoted when they need it. */
    static String emit(List<String[]> entries) {
        StringBuilder b = new StringBuilder();
        for (String[] e : entries) {
            String[] parts = e[0].split("\\.", -1);
            for (int i = 0; i < parts.length; i++) {
                b.append("  ".repeat(i)).append(key(parts[i])).append(':');
                if (i < parts.length - 1) {
                    b.append('\n');
                } else {
                    String v = e[1];
                    if (v.startsWith("|")) {
                        // block scalar lines indented below the key
                        v = v.replace("\n    ", "\n" + "  ".repeat(i + 2));
                    }
                    b.append(' ').append(v).append('\n');
                }
            }
        }
        return b.toString();
    }

    static String key(String k) {
        return k.matches("[A-Za-z0-9_-]+") ? k : quote(k);
    }

    // ---------------------------------------------------------------- properties

    @Property(tries = 200, seed = "8012", generation = GenerationMode.RANDOMIZED)
    void generatedYamlLoadsOrFailsWithOneLineNamingTheKey(@ForAll("documents") byte[] yaml) throws Exception {
        Path file = dir.resolve("c.yaml");
        Files.write(file, yaml);
        String shown = new String(yaml, StandardCharsets.UTF_8);
        try {
            new ConfigLoader(Map.of(), dir).load(file);
            LOADED.incrementAndGet();
        } catch (ConfigException e) {
            REJECTED.incrementAndGet();
            String m = e.getMessage();
            assertThat(m).as("one line for:\n%s", shown).doesNotContain("\n").doesNotContain("\r");
            String key = e.key().isBlank() ? "\"" + e.key() + "\"" : e.key();
            assertThat(m).as("names its key").startsWith(ConfigException.printable(key) + " = ");
            assertThat(m).as("secret shown for:\n%s", shown).doesNotContain(MARK);
            // Never a stack trace (a parser's exception class name inside the message is tolerated).
            assertThat(m).doesNotContain("\tat ").doesNotContain("Caused by");
        } catch (Throwable t) {
            // Anything else reaches the operator as a stack trace.
            throw new AssertionError("not a ConfigException for:\n" + clip(shown), t);
        }
    }

    /** A few of the generated shapes through the real jar: what the operator actually sees. */
    @Example
    void theJarPrintsOneMaskedLineAndExits2() throws Exception {
        List<byte[]> docs = List.of(
                utf8("server:\n  admin_token: \"" + MARK + "-a\\nb-0123456789\"\n"),
                utf8("redis:\n  url: \"http://:" + MARK + "pw@[::1\"\n"),
                utf8("gateway:\n  scheduling:\n    deep: " + "{k: ".repeat(1500) + "1" + "}".repeat(1500) + "\n"),
                new byte[] {(byte) 0xFF, (byte) 0xFE, 's', 0, ':', 0},
                utf8("server:\n  port: \"eighty\\neighty-one\"\n"));
        int n = 0;
        for (byte[] d : docs) {
            Path sub = Files.createTempDirectory(dir, "jar-");
            Files.write(sub.resolve("c.yaml"), d);
            ServerJar.Result r = ServerJar.run(sub, Map.of(), Duration.ofSeconds(60), "serve", "--config", "c.yaml");
            String what = clip(new String(d, StandardCharsets.UTF_8));
            assertThat(r.code()).as(what + "\n" + r.err()).isEqualTo(2);
            assertThat(r.err().lines()).as(r.err()).hasSize(1);
            assertThat(r.err()).startsWith("roster: invalid configuration: ");
            assertThat(r.err() + r.out()).doesNotContain(MARK).doesNotContain("\tat ");
            assertThat(r.out()).isEmpty();
            n++;
        }
        REPORT.add("| `HostileConfigIT.theJarPrintsOneMaskedLineAndExits2` | " + n + " hostile files through `roster"
                + " serve --config` | " + n + " | " + n + " (exit 2, one line) | 0 | 0 | - | - |");
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> {
                    if (c < 0x20 || Character.isSurrogate(c)) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String clip(String s) {
        return s.length() > 400 ? s.substring(0, 400) + "...(" + s.length() + " chars)" : s;
    }
}
