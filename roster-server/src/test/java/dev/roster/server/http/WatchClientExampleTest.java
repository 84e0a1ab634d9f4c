package dev.roster.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.roster.testkit.TcpProxy;
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
    static int port;

    @BeforeAll
    static void start() {
        fx = new WatchFixture(
                WatchClientExampleTest.class,
                "example",
                "INSERT INTO accounts (name, platform, type) VALUES ('p1', 'wpy', 'apikey'), ('p2', 'wpy', 'apikey'),"
                        + " ('q1', 'wquiet', 'apikey'), ('w1', 'wres', 'apikey'),"
                        + " ('k1', 'wcap', 'apikey')");
        port = fx.server(WatchConfig.DEFAULTS).port();
        base = "http://127.0.0.1:" + port;
    }

    @AfterAll
    static void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    /** The client's JSON lines, as they come. */
    record Run(Process process, List<JsonNode> lines, Thread reader, List<String> errors) {}

    static Run run(String url, String... buckets) throws Exception {
        assertThat(CLIENT).exists();
        List<String> cmd = new java.util.ArrayList<>(
                List.of("python3", CLIENT.toString(), "--url", url, "--token", WatchFixture.TOKEN, "--changes", "1"));
        for (String b : buckets) {
            cmd.add("--bucket");
            cmd.add(b);
        }
        Process p = new ProcessBuilder(cmd).start();
        List<String> errors = new CopyOnWriteArrayList<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    errors.add(line);
                }
            } catch (Exception e) {
                // The process ended.
            }
        });
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
        return new Run(p, lines, reader, errors);
    }

    static long version(List<JsonNode> lines, String bucket) {
        return lines.stream()
                .filter(l -> l.get("bucket").asText().equals(bucket))
                .findFirst()
                .orElseThrow()
                .get("version")
                .asLong();
    }

    @Test
    void afterADroppedConnectionThePythonClientResumesAndReReadsOnlyWhatChangedMeanwhile() throws Exception {
        try (TcpProxy proxy = TcpProxy.start("127.0.0.1", port)) {
            // The quiet bucket first: a client that did not resume would re-read it first and stop there.
            Run r = run("http://127.0.0.1:" + proxy.port(), "0:wquiet:single", "0:wres:single");
            Process p = r.process();
            List<JsonNode> lines = r.lines();
            try {
                await().atMost(Duration.ofSeconds(30)).until(() -> lines.size() == 2);
                long before = version(lines, "0:wres:single");
                proxy.partition();
                fx.sql("UPDATE accounts SET priority = 3 WHERE name = 'w1'");
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> SseClient.JSON
                                        .readTree(SseClient.HTTP
                                                .send(
                                                        java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                                                                        base + "/v1/schedulable?platform=wres"))
                                                                .header("Authorization", "Bearer " + WatchFixture.TOKEN)
                                                                .build(),
                                                        java.net.http.HttpResponse.BodyHandlers.ofString())
                                                .body())
                                        .get("version")
                                        .asLong()
                                > before);
                assertThat(lines).as("nothing arrives while partitioned").hasSize(2);
                proxy.heal();

                assertThat(p.waitFor(60, TimeUnit.SECONDS))
                        .as("the client exits after one change")
                        .isTrue();
                r.reader().join(5_000);
                assertThat(p.exitValue()).isZero();
                assertThat(lines).hasSize(3);
                assertThat(lines.get(2).get("bucket").asText()).isEqualTo("0:wres:single");
                assertThat(lines.get(2).get("version").asLong()).isGreaterThan(before);
            } finally {
                p.destroyForcibly();
            }
        }
    }

    @Test
    void pastTheClientCapThePythonClientIsRefusedCleanlyAndGetsInOnceThereIsRoom() throws Exception {
        HttpServer capped = fx.server(new WatchConfig(1, 4, Duration.ofMillis(300), 8));
        String url = "http://127.0.0.1:" + capped.port();
        SseClient holder = SseClient.open(url + "/v1/watch?bucket=0:wquiet:single", WatchFixture.TOKEN, null);
        assertThat(holder.status).isEqualTo(200);
        Run r = run(url, "0:wcap:single");
        try {
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> r.errors().stream().anyMatch(e -> e.contains("503")));
            assertThat(r.errors()).anySatisfy(e -> assertThat(e).contains("server.watch_max_clients = 1"));
            assertThat(r.lines()).isEmpty();
            holder.close();
            await().atMost(Duration.ofSeconds(30)).until(() -> r.lines().size() == 1);
            fx.sql("UPDATE accounts SET priority = 9 WHERE name = 'k1'");
            assertThat(r.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(r.process().exitValue()).isZero();
            assertThat(r.lines()).hasSize(2);
        } finally {
            r.process().destroyForcibly();
            holder.close();
        }
    }

    @Test
    void thePythonClientLoadsItsBucketsThenReReadsTheOneThatChanged() throws Exception {
        Run run = run(base, "0:wpy:single", "0:wquiet:single");
        Process p = run.process();
        List<JsonNode> lines = run.lines();
        Thread reader = run.reader();
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
