package dev.roster.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedPostgresTest {

    @Test
    void runs_as_the_unprivileged_user_when_forced_and_keeps_data_across_restarts(@TempDir Path dir) throws Exception {
        String before = System.getProperty("roster.embedded.postgres.launch");
        System.setProperty("roster.embedded.postgres.launch", "user");
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder(dir.resolve("data"))
                .ephemeral()
                .build()
                .start()) {
            assertThat(pg.isRunning()).isTrue();
            if ("root".equals(System.getProperty("user.name"))) {
                assertThat(Files.getOwner(dir.resolve("data").resolve("PG_VERSION"))
                                .getName())
                        .isEqualTo("nobody");
            }
            pg.restart();
            assertThat(pg.isRunning()).isTrue();
        } finally {
            if (before == null) {
                System.clearProperty("roster.embedded.postgres.launch");
            } else {
                System.setProperty("roster.embedded.postgres.launch", before);
            }
        }
    }

    @Test
    void refuses_a_data_folder_of_another_major_version(@TempDir Path dir) throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.writeString(data.resolve("PG_VERSION"), "14\n");
        EmbeddedPostgres pg = EmbeddedPostgres.builder(data).build();
        assertThatThrownBy(pg::start)
                .hasMessageContaining("PostgreSQL 14")
                .hasMessageContaining("embedded server is PostgreSQL 17");
    }

    @Test
    void refuses_a_non_empty_folder_that_holds_no_cluster(@TempDir Path dir) throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.writeString(data.resolve("notes.txt"), "mine");
        EmbeddedPostgres pg = EmbeddedPostgres.builder(data).build();
        assertThatThrownBy(pg::start).hasMessageContaining("is not empty and holds no PostgreSQL cluster");
    }
}
