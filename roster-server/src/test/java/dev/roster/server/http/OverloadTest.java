package dev.roster.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.service.ListResult;
import dev.roster.server.app.Backend;
import dev.roster.server.app.BackendSource;
import dev.roster.server.config.RosterConfig;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Overload answers 503 at once instead of queueing: with every permit held by a request that cannot
 * finish, the next request is refused immediately, health stays reachable, and the permits come back
 * when the slow requests end.
 */
class OverloadTest {
    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void requests_over_the_cap_get_503_overloaded_while_health_still_answers() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger inList = new AtomicInteger();
        @SuppressWarnings("ReferenceEquality") // the proxy equals only itself, as Object.equals does
        Backend backend = (Backend) Proxy.newProxyInstance(
                Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, (p, m, args) -> {
                    switch (m.getName()) {
                        case "readiness":
                            return new Backend.Readiness(true, "");
                        case "now":
                            return Instant.now();
                        case "list":
                            inList.incrementAndGet();
                            // Holds the permit like a slow database fallback would.
                            release.await(60, TimeUnit.SECONDS);
                            return new ListResult(
                                    Bucket.of(0, "openai", Mode.SINGLE),
                                    List.of(),
                                    false,
                                    "g",
                                    1,
                                    ListResult.Source.PROJECTION);
                        case "toString":
                            return "blocking backend";
                        case "hashCode":
                            return 0;
                        case "equals":
                            return p == args[0];
                        default:
                            throw new UnsupportedOperationException(m.getName());
                    }
                });
        BackendSource source = BackendSource.of(backend);
        RosterConfig.Server cfg = new RosterConfig.Server(
                "127.0.0.1",
                0,
                "admin-token-0123456789",
                "",
                true,
                2,
                Duration.ofSeconds(5),
                4096,
                Duration.ofSeconds(5));
        try (HttpServer server = new HttpServer(cfg, source, new Metrics(source))) {
            int port = server.start();
            String base = "http://127.0.0.1:" + port;
            List<CompletableFuture<HttpResponse<String>>> slow = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                slow.add(HTTP.sendAsync(
                        get(base + "/v1/schedulable?platform=openai"), HttpResponse.BodyHandlers.ofString()));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> inList.get() == 2);

            HttpResponse<String> refused =
                    HTTP.send(get(base + "/v1/schedulable?platform=openai"), HttpResponse.BodyHandlers.ofString());
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.body()).contains("\"error\":\"overloaded\"").contains("max_concurrent_requests");
            assertThat(inList.get())
                    .as("the refused request never reached the backend")
                    .isEqualTo(2);
            assertThat(HTTP.send(get(base + "/health/live"), HttpResponse.BodyHandlers.ofString())
                            .statusCode())
                    .isEqualTo(200);

            release.countDown();
            for (CompletableFuture<HttpResponse<String>> f : slow) {
                assertThat(f.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            }
            assertThat(HTTP.send(get(base + "/v1/schedulable?platform=openai"), HttpResponse.BodyHandlers.ofString())
                            .statusCode())
                    .isEqualTo(200);
        }
    }

    private static HttpRequest get(String url) {
        return HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(30))
                .build();
    }
}
