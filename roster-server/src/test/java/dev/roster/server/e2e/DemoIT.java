package dev.roster.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code roster demo} from the built jar (no nested build): the tour runs and its summary table is complete. */
class DemoIT {
    @TempDir
    Path dir;

    @Test
    void demo_runs_the_tour_and_ends_with_the_summary_table() throws Exception {
        ServerJar.Result r = ServerJar.run(dir, Map.of(), Duration.ofMinutes(3), "demo");
        assertThat(r.code()).as(r.out() + "\n" + r.err()).isZero();
        String out = r.out();
        for (int i = 1; i <= 9; i++) {
            assertThat(out).contains("[" + i + "/9] ");
        }
        List<String> lines = out.lines().toList();
        int summary = lines.indexOf("Summary");
        assertThat(summary).as(out).isPositive();
        List<String> table = lines.subList(summary, lines.size());
        assertThat(String.join("\n", table))
                .containsPattern("pool loaded +6 groups, 300 accounts")
                .containsPattern("initial full rebuild +\\d+ buckets")
                .containsPattern("SQL status change -> hot path +\\d+ ms")
                .containsPattern("rate limit ends -> listed again +\\d+ ms after reset, 0 events")
                .containsPattern("bulk update of 200 accounts +1 event, [1-9]\\d* bucket rebuilds")
                .containsPattern("Redis down: hot path +near cache .*, then fallback")
                .containsPattern("Redis flushed -> rebuilt +\\d+ ms")
                .containsPattern("audit +no drift in \\d+ buckets")
                .containsPattern("HTTP GET /v1/schedulable +200");
        assertThat(out).contains("Demo finished in");
        // the outage is part of the tour: no warnings or JDK notices reach the terminal
        assertThat(r.err()).isEmpty();
    }
}
