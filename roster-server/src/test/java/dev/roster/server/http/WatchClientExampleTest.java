package dev.roster.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The README's second-language client, {@code examples/watch_client.py}, run with {@code python3} against
 * a real server on PostgreSQL and Redis: it loads its buckets, is told of a committed change and re-reads
 * exactly that bucket.
 */
class WatchClientExampleTest {
    static final Path CLIENT =
            Path.of("..", "examples", "watch_client.py").toAbsolutePath().normalize();
    static WatchFixture fx;
    static String base;

    @BeforeAll
    static void start() {
        fx = new WatchFixture(
                WatchClientExampleTest.class,
                "example",
                "INSERT INTO accounts (name, platform, type) VALUES ('p1', 'wpy', 'apikey'), ('p2', 'wpy', 'apikey'),"
                        + " ('q1', 'wquiet', 'apikey')");
        base = "http://127.0.0.1:" + fx.server(WatchConfig.DEFAULTS).port();
    }

    @AfterAll
    static void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    @Test
    void thePythonClientLoadsItsBucketsThenReReadsTheOneThatChanged() throws Exception {
        assertThat(CLIENT).exists();
        Process p = new ProcessBuilder(
                        "python3",
                        CLIENT.toString(),
                        "--url",
                        base,
                        "--token",
                        WatchFixture.TOKEN,
                        "--bucket",
                        "0:wpy:single",
                        "--bucket",
                        "0:wquiet:single",
                        "--changes",
                        "1")
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        List<JsonNode> lines = new CopyOnWriteArrayList<>();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(SseClient.JSON.readTree(line));
                }
            } catch (Exception e) {
                // The process ended.
            }
        });
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> lines.size() == 2);
            assertThat(lines)
                    .allSatisfy(l -> assertThat(l.get("status").asInt()).isEqualTo(200));
            long before = lines.stream()
                    .filter(l -> l.get("bucket").asText().equals("0:wpy:single"))
                    .findFirst()
                    .orElseThrow()
                    .get("version")
                    .asLong();

            fx.sql("UPDATE accounts SET schedulable = false WHERE name = 'p2'");

            assertThat(p.waitFor(30, TimeUnit.SECONDS))
                    .as("the client exits after one change")
                    .isTrue();
            reader.join(5_000);
            assertThat(p.exitValue()).isZero();
            assertThat(lines).hasSize(3);
            JsonNode changed = lines.get(2);
            assertThat(changed.get("bucket").asText()).isEqualTo("0:wpy:single");
            assertThat(changed.get("version").asLong()).isGreaterThan(before);
            assertThat(changed.get("accounts").asInt()).isEqualTo(1);
        } finally {
            p.destroyForcibly();
        }
    }
}
