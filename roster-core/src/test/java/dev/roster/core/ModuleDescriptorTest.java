package dev.roster.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The compiled descriptor of this module: every package is exported except {@code internal}, and
 * exported without qualification. Read from the build output, since the tests run on the class path.
 */
class ModuleDescriptorTest {

    @Test
    void exportsEveryPackageButInternal() throws IOException, URISyntaxException {
        Path classes = Path.of(
                Bucket.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        ModuleDescriptor d;
        try (InputStream in = Files.newInputStream(classes.resolve("module-info.class"))) {
            d = ModuleDescriptor.read(in);
        }
        assertThat(d.name()).isEqualTo("roster.core");
        assertThat(d.exports())
                .allSatisfy(e -> assertThat(e.isQualified()).as(e.source()).isFalse());
        assertThat(d.exports().stream().map(ModuleDescriptor.Exports::source).collect(Collectors.toSet()))
                .doesNotContain("dev.roster.core.internal")
                .containsExactlyInAnyOrderElementsOf(packagesOf(classes).stream()
                        .filter(p -> !p.equals("dev.roster.core.internal"))
                        .toList());
        assertThat(d.opens()).isEmpty();
    }

    /** The packages that hold classes in the build output, found by walking it (not from the descriptor). */
    private static java.util.Set<String> packagesOf(Path classes) throws IOException {
        try (Stream<Path> files = Files.walk(classes)) {
            return files.filter(f -> f.toString().endsWith(".class"))
                    .map(f -> classes.relativize(f.getParent()))
                    .filter(p -> !p.toString().isEmpty())
                    .map(p -> p.toString().replace(java.io.File.separatorChar, '.'))
                    .collect(Collectors.toSet());
        }
    }
}
