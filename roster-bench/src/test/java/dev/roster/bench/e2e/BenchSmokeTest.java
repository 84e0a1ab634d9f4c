package dev.roster.bench.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps {@code roster bench} working: every scenario at its tiny size (seconds each), report written,
 * no plots and no timing assertions (the figures of a tiny run mean nothing).
 */
class BenchSmokeTest {
    @Test
    void everyScenarioRunsAtTinySizeAndWritesTheReport(@TempDir Path out) throws Exception {
        int code = BenchMain.run("--tiny", "--no-plots", "--out", out.toString());

        assertThat(code).isZero();
        String report = Files.readString(out.resolve("README.md"));
        assertThat(report)
                .contains("## Replay throughput")
                .contains("## Full rebuild at scale")
                .contains("## Outage: Redis stopped under load")
                .contains("## Hot path under load")
                .contains("## Freshness: commit to visible on three instances")
                .contains("## Freshness under a full rebuild and a storm")
                .contains("## Pool model: heap retained")
                .contains("| poolmodel | ")
                .contains("## Near caches during a live storm: Redis network output")
                .contains("## Watch: commit to event")
                .contains("`Roster.list` on the serving instance, commit → visible (baseline)")
                .doesNotContain("was shared")
                .contains("baseline: seed configuration")
                .contains("seed five-command pattern");
    }

    @Test
    void nearCacheTrafficRunsBothArmsAtTinySize(@TempDir Path out) throws Exception {
        assertThat(BenchMain.run("--tiny", "--no-plots", "--out", out.toString(), "nearcache-traffic"))
                .isZero();
        String report = Files.readString(out.resolve("README.md"));
        System.out.println(report);
        assertThat(report)
                .contains("## Near caches during a live storm: Redis network output")
                .contains("**full reads**")
                .contains("**parts**");
    }

    @Test
    void anUnknownScenarioIsAUsageError(@TempDir Path out) throws Exception {
        assertThat(BenchMain.run("--tiny", "--out", out.toString(), "nonsense")).isEqualTo(2);
    }
}
