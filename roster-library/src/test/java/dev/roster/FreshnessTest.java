package dev.roster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Commit-to-visible across three instances ({@link Freshness}). The small variant runs in the suite
 * and checks only that every change reaches every instance's hot path; the figure (60 s at 20
 * changes/s and 1,000 reads/s per instance) runs with {@code -Pbench} and writes its table to {@code
 * target/freshness.txt}; the figure is in {@code docs/performance.md}.
 */
class FreshnessTest {

    @Test
    void everyCommittedChangeReachesTheHotPathOfEveryInstance() throws Exception {
        Servers servers = new Servers(FreshnessTest.class, "small");
        servers.openaiAccounts(Freshness.ACCOUNTS);
        Freshness.Result r = Freshness.run(servers, 3, 20, 200, 2);
        assertThat(r.missing()).containsOnly(0L);
        assertThat(r.perInstance())
                .allSatisfy(h -> assertThat(h.getTotalCount()).isEqualTo(r.changes()));
    }

    @Test
    @Tag("bench")
    void freshnessFigure() throws Exception {
        int seconds = Integer.getInteger("roster.freshness.seconds", 60);
        Servers servers = new Servers(FreshnessTest.class, "figure");
        servers.openaiAccounts(Freshness.ACCOUNTS);
        Freshness.Result r = Freshness.run(servers, 3, 20, 1_000, seconds);
        String table = Freshness.report(r, 1_000, 20);
        System.out.println(table);
        Files.writeString(Path.of("target/freshness.txt"), table);
        assertThat(r.missing()).containsOnly(0L);
    }
}
