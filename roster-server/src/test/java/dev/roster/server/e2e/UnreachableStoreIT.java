package dev.roster.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.embedded.EmbeddedPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store that cannot be reached at start is not a config error: the server starts,
 * answers not-ready with the reason, retries with back-off and becomes ready once the store is up.
 */
class UnreachableStoreIT {
    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;

    @Test
    void starts_not_ready_with_the_reason_then_becomes_ready_when_postgres_appears() throws Exception {
        int pgPort = EmbeddedPostgres.freePort();
        // The database password must never be printed, not even in the not-ready reason.
        String secret = "pg-secret-7f3a91";
        Files.writeString(dir.resolve("roster.yaml"), """
                server:
                  port: 0
                database:
                  url: jdbc:postgresql://127.0.0.1:%d/postgres
                  user: postgres
                  password: %s
                embedded:
                  data_dir: ./data
                """.formatted(pgPort, secret));
        try (ServerJar server = ServerJar.start(dir, Map.of(), "serve")) {
            String base = server.awaitListening(Duration.ofMinutes(2));

            assertThat(get(base + "/health/live").statusCode()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                HttpResponse<String> ready = get(base + "/health/ready");
                assertThat(ready.statusCode()).isEqualTo(503);
                assertThat(ready.body()).contains("not_ready").contains("unreachable");
            });
            HttpResponse<String> list = get(base + "/v1/schedulable?platform=anthropic");
            assertThat(list.statusCode()).isEqualTo(503);
            assertThat(list.body()).doesNotContain(secret).doesNotContain("\tat ");

            try (EmbeddedPostgres pg = EmbeddedPostgres.builder(dir.resolve("late-pg"))
                    .port(pgPort)
                    .ephemeral()
                    .build()
                    .start()) {
                await().atMost(Duration.ofSeconds(90))
                        .until(() -> get(base + "/health/ready").statusCode() == 200);
                assertThat(get(base + "/v1/schedulable?platform=anthropic").statusCode())
                        .isEqualTo(200);
                server.close();
            }
            assertThat(String.join("\n", server.out) + String.join("\n", server.err))
                    .doesNotContain(secret);
        }
    }

    static HttpResponse<String> get(String url) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(30))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
