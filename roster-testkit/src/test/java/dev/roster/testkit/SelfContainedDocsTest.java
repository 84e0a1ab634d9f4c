package dev.roster.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A clone explains itself (decision DOC1): no code, script or document of the repository refers to a
 * document that is not in it. Ids of the seed's behaviours and weaknesses live in {@code docs/upstream.md},
 * the design as built in {@code docs/architecture.md}, choices in {@code docs/decisions.md}. Code also
 * cites no issue numbers (documents may keep them as section labels).
 */
class SelfContainedDocsTest {
    /**
     * References to documents outside the repository, in any text file. Built from parts so that this file
     * does not match itself.
     */
    private static final List<String> OUTSIDE = List.of(
            "../" + "shared/",
            "shared/" + "design",
            "design" + " §",
            "upstream" + " §",
            "upstream-" + "behaviour",
            "upstream-" + "tests",
            "reference/" + "seed",
            "house-" + "style",
            "operator-" + "needs");

    /** Issue numbers, which code must not cite (a reader of the code has no tracker at hand). */
    private static final Pattern ISSUE = Pattern.compile("\\b[Ii]ssues? [0-9]");

    private static final Set<String> TEXT =
            Set.of("java", "md", "lua", "sql", "yaml", "yml", "html", "js", "css", "sh", "xml", "properties");
    private static final Set<String> CODE =
            Set.of("java", "lua", "sql", "yaml", "yml", "html", "js", "css", "sh", "xml");
    private static final Set<String> SKIPPED_DIRS = Set.of(
            "target", ".git", ".mvn", ".idea", ".vscode", ".roster", ".roster-data", "node_modules", "screenshots");

    @Test
    void no_file_refers_to_a_document_outside_the_repository() throws IOException {
        Path root = repositoryRoot();
        List<String> found = new ArrayList<>();
        for (Path f : textFiles(root)) {
            String name = f.getFileName().toString();
            String ext = extension(name);
            boolean code = CODE.contains(ext) || name.equals("roster") || name.equals("run");
            List<String> lines = lines(f);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                String lower = line.toLowerCase(Locale.ROOT);
                for (String o : OUTSIDE) {
                    if (lower.contains(o.toLowerCase(Locale.ROOT))) {
                        found.add(root.relativize(f) + ":" + (i + 1) + ": cites '" + o + "': " + line.strip());
                    }
                }
                if (code && ISSUE.matcher(line).find()) {
                    found.add(root.relativize(f) + ":" + (i + 1) + ": cites an issue number: " + line.strip());
                }
            }
        }
        assertThat(found)
                .as("refer to docs/upstream.md, docs/architecture.md sections or docs/decisions.md ids instead")
                .isEmpty();
    }

    /** {@code architecture.md, "The bucket query"}: a citation of a section of the architecture document. */
    private static final Pattern SECTION = Pattern.compile("architecture\\.md`?, \"([^\"]+)\"");

    /** {@code upstream.md W3} or {@code upstream.md U-SEL-3}: a citation of an id of the upstream document. */
    private static final Pattern UPSTREAM_ID =
            Pattern.compile("upstream\\.md`? ((?:W|L|G)[0-9]+|U-[A-Z]+(?:-[0-9]+)?)");

    @Test
    void cited_architecture_sections_and_upstream_ids_exist() throws IOException {
        Path root = repositoryRoot();
        List<String> headings = lines(root.resolve("docs/architecture.md")).stream()
                .filter(l -> l.startsWith("#"))
                .toList();
        String upstream = Files.readString(root.resolve("docs/upstream.md"));
        List<String> missing = new ArrayList<>();
        for (Path f : textFiles(root)) {
            List<String> lines = lines(f);
            for (int i = 0; i < lines.size(); i++) {
                var s = SECTION.matcher(lines.get(i));
                while (s.find()) {
                    String title = s.group(1);
                    if (headings.stream().noneMatch(h -> h.contains(title))) {
                        missing.add(root.relativize(f) + ":" + (i + 1) + ": no section \"" + title + "\"");
                    }
                }
                var u = UPSTREAM_ID.matcher(lines.get(i));
                while (u.find()) {
                    String id = u.group(1);
                    if (!Pattern.compile("(\\*\\*|### )" + id + "(\\*\\*| |,)")
                            .matcher(upstream)
                            .find()) {
                        missing.add(root.relativize(f) + ":" + (i + 1) + ": no upstream id " + id);
                    }
                }
            }
        }
        assertThat(missing).as("citations must name what docs/ defines").isEmpty();
    }

    @Test
    void the_scan_sees_the_documents_it_protects() throws IOException {
        Path root = repositoryRoot();
        List<Path> files = textFiles(root);
        assertThat(files)
                .contains(
                        root.resolve("docs/architecture.md"),
                        root.resolve("docs/upstream.md"),
                        root.resolve("README.md"),
                        root.resolve("roster"),
                        root.resolve("roster-core/src/main/java/dev/roster/core/TimeFilter.java"));
    }

    /** The folder holding the parent POM, found upwards from the module folder the tests run in. */
    private static Path repositoryRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null) {
            if (Files.isRegularFile(p.resolve("mvnw")) && Files.isDirectory(p.resolve("roster-core"))) {
                return p;
            }
            p = p.getParent();
        }
        throw new IllegalStateException(
                "no repository root above " + Path.of("").toAbsolutePath());
    }

    private static List<Path> textFiles(Path root) throws IOException {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.filter(Files::isRegularFile)
                    .filter(f -> root.relativize(f).getNameCount() == 0 || notSkipped(root.relativize(f)))
                    .filter(f -> {
                        String n = f.getFileName().toString();
                        return TEXT.contains(extension(n))
                                || (n.equals("roster") && f.getParent().equals(root))
                                || (n.equals("run")
                                        && f.getParent()
                                                .getFileName()
                                                .toString()
                                                .equals(".ci"));
                    })
                    .forEach(out::add);
        }
        return out;
    }

    private static boolean notSkipped(Path relative) {
        for (Path part : relative) {
            if (SKIPPED_DIRS.contains(part.toString())) {
                return false;
            }
        }
        return true;
    }

    private static String extension(String name) {
        int dot = name.lastIndexOf('.');
        return dot < 0 ? "" : name.substring(dot + 1);
    }

    private static List<String> lines(Path f) {
        try {
            return Files.readAllLines(f, StandardCharsets.UTF_8);
        } catch (MalformedInputException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
