package dev.roster.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Selection over HTTP on the real server jar (embedded PostgreSQL and Redis): select → release, the
 * load-aware order, wait plans and their tickets, sticky sessions, the none reasons, report → cooldown
 * honoured by the next select and never shortened, renew, bad inputs, auth, metrics and OpenAPI.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SelectionApiIT {
    static final String ADMIN = "admin-token-0123456789abcdef";
    static final String API = "api-token-0123456789abcdef";
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    static Path dir;

    static ServerJar server;
    static String base;
    static long group;
    static long a; // priority 1, concurrency 1, serves only gpt-a
    static long b; // priority 2, concurrency 1, serves every model

    @BeforeAll
    static void start() throws Exception {
        // Small queues so the wait and saturated paths are reached with two accounts.
        Files.writeString(dir.resolve("roster.yaml"), """
                server:
                  port: 0
                  admin_token: %s
                embedded:
                  data_dir: ./data
                gateway:
                  scheduling:
                    outbox_poll_interval_seconds: 1
                    fallback_max_waiting: 1
                    sticky_session_max_waiting: 1
                selection:
                  cooldowns:
                    overload_steps: 1h
                """.formatted(ADMIN));
        server = ServerJar.start(dir, Map.of("ROSTER_SERVER_API_TOKEN", API), "serve");
        base = server.awaitListening(Duration.ofMinutes(2));
        await().atMost(Duration.ofSeconds(60))
                .until(() -> send("GET", "/health/ready", null, null).statusCode() == 200);
        group = ok(send("POST", "/admin/groups", ADMIN, "{\"name\":\"sel\",\"platform\":\"openai\"}"))
                .get("id")
                .asLong();
        a = ok(send("POST", "/admin/accounts", ADMIN, """
                        {"name":"sel-a","platform":"openai","type":"apikey","priority":1,"concurrency":1,
                         "credentials":{"api_key":"sk-sel-secret","model_mapping":{"gpt-a":"gpt-a"}},
                         "groups":[{"id":"%d","priority":1}]}
                        """.formatted(group)))
                .get("id")
                .asLong();
        b = ok(send("POST", "/admin/accounts", ADMIN, """
                        {"name":"sel-b","platform":"openai","type":"apikey","priority":2,"concurrency":1,
                         "groups":[{"id":"%d","priority":2}]}
                        """.formatted(group)))
                .get("id")
                .asLong();
        await().atMost(Duration.ofSeconds(20))
                .untilAsserted(() -> assertThat(
                                ok(send("GET", "/v1/schedulable?group=" + group + "&platform=openai", API, null))
                                        .get("accounts"))
                        .hasSize(2));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static HttpResponse<String> send(String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            r.header("Authorization", "Bearer " + token);
        }
        r.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            r.header("Content-Type", "application/json");
        }
        return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 299);
        return JSON.readTree(r.body());
    }

    static JsonNode select(String extra) throws Exception {
        return ok(send(
                "POST",
                "/v1/select",
                API,
                "{\"group\":\"" + group + "\",\"platform\":\"openai\"" + (extra.isEmpty() ? "" : "," + extra) + "}"));
    }

    static JsonNode release(JsonNode acquired) throws Exception {
        JsonNode lease = acquired.get("lease");
        return ok(send(
                "POST",
                "/v1/release",
                API,
                "{\"account_id\":\"" + lease.get("account_id").asText() + "\",\"token\":\""
                        + lease.get("token").asText() + "\"}"));
    }

    static JsonNode leave(JsonNode wait) throws Exception {
        return ok(send(
                "POST",
                "/v1/release",
                API,
                "{\"wait_ticket\":\"" + wait.get("wait_ticket").asText() + "\"}"));
    }

    static JsonNode report(long id, String rest) throws Exception {
        return ok(send("POST", "/v1/report", API, "{\"account_id\":\"" + id + "\"," + rest + "}"));
    }

    @Test
    @Order(1)
    void select_orders_by_priority_then_waits_then_saturates_and_release_is_idempotent() throws Exception {
        JsonNode first = select("\"session_key\":\"conv-1\"");
        assertThat(first.get("result").asText()).isEqualTo("acquired");
        assertThat(first.get("account").get("id").asText()).isEqualTo(Long.toString(a));
        assertThat(first.get("account").get("id").isTextual())
                .as("64-bit ids are strings")
                .isTrue();
        assertThat(first.get("layer").asText()).isEqualTo("load_aware");
        assertThat(first.get("sticky").asBoolean()).isFalse();
        assertThat(first.get("lease").get("token").asText()).matches("[0-9a-f]{32}");
        assertThat(first.get("lease").get("expires_at").asText()).endsWith("Z");
        assertThat(first.toString()).doesNotContain("sk-sel-secret");

        JsonNode second = select("");
        assertThat(second.get("result").asText()).isEqualTo("acquired");
        assertThat(second.get("account").get("id").asLong()).isEqualTo(b);

        // Both slots taken: a fallback wait plan per account (queue limit 1), then nothing.
        JsonNode w1 = select("");
        assertThat(w1.get("result").asText()).isEqualTo("wait");
        assertThat(w1.get("layer").asText()).isEqualTo("fallback");
        assertThat(w1.get("sticky").asBoolean()).isFalse();
        assertThat(w1.get("max_waiting").asInt()).isEqualTo(1);
        assertThat(w1.get("timeout_ms").asText()).isEqualTo("30000");
        assertThat(w1.get("wait_ticket").asText()).matches("[0-9]+:[0-9a-f]{32}:[0-9a-f]{32}");
        assertThat(Instant.parse(w1.get("wait_until").asText())).isAfter(Instant.now());
        JsonNode w2 = select("");
        assertThat(w2.get("result").asText()).isEqualTo("wait");
        assertThat(w2.get("account_id").asText())
                .isNotEqualTo(w1.get("account_id").asText());
        JsonNode full = select("");
        assertThat(full.get("result").asText()).isEqualTo("none");
        assertThat(full.get("reason").asText()).isEqualTo("saturated");
        assertThat(full.get("message").asText()).contains("wait queues are full");

        // A retry with its ticket is counted once: still queued (slots are held), not refused.
        JsonNode retried = select("\"wait_ticket\":\"" + w1.get("wait_ticket").asText() + "\",\"wait_until\":\""
                + w1.get("wait_until").asText() + "\"");
        assertThat(retried.get("wait_until").asText())
                .as("one deadline")
                .isEqualTo(w1.get("wait_until").asText());
        assertThat(retried.get("result").asText()).isEqualTo("wait");
        assertThat(leave(retried).get("released").asBoolean()).isTrue();
        assertThat(leave(retried).get("released").asBoolean()).isFalse();
        assertThat(leave(w2).get("released").asBoolean()).isTrue();

        // The session's account is full: a sticky wait plan on it.
        JsonNode sw = select("\"session_key\":\"conv-1\"");
        assertThat(sw.get("result").asText()).isEqualTo("wait");
        assertThat(sw.get("sticky").asBoolean()).isTrue();
        assertThat(sw.get("layer").asText()).isEqualTo("sticky");
        assertThat(sw.get("account_id").asLong()).isEqualTo(a);
        assertThat(sw.get("timeout_ms").asText()).isEqualTo("120000");
        assertThat(leave(sw).get("released").asBoolean()).isTrue();

        JsonNode renewed = ok(send(
                "POST",
                "/v1/renew",
                API,
                "{\"account_id\":\"" + b + "\",\"token\":\""
                        + second.get("lease").get("token").asText() + "\"}"));
        assertThat(renewed.get("renewed").asBoolean()).isTrue();
        assertThat(release(first).get("released").asBoolean()).isTrue();
        assertThat(release(first).get("released").asBoolean()).as("idempotent").isFalse();
        assertThat(release(second).get("released").asBoolean()).isTrue();

        // The slot is free again: the session comes back to its account through the sticky layer.
        JsonNode again = select("\"session_key\":\"conv-1\"");
        assertThat(again.get("result").asText()).isEqualTo("acquired");
        assertThat(again.get("account").get("id").asLong()).isEqualTo(a);
        assertThat(again.get("sticky").asBoolean()).isTrue();
        assertThat(again.get("layer").asText()).isEqualTo("sticky");
        release(again);
    }

    @Test
    @Order(2)
    void none_reasons_name_what_to_fix() throws Exception {
        JsonNode model = select("\"model\":\"gpt-zzz\",\"excluded_ids\":[\"" + b + "\"]");
        assertThat(model.get("result").asText()).isEqualTo("none");
        assertThat(model.get("reason").asText()).isEqualTo("model_unsupported");
        assertThat(model.get("message").asText()).contains("gpt-zzz");
        assertThat(model.get("until").isNull()).isTrue();
        JsonNode excluded = select("\"excluded_ids\":[" + a + ",\"" + b + "\"]");
        assertThat(excluded.get("reason").asText()).isEqualTo("all_excluded");
        JsonNode empty = ok(send("POST", "/v1/select", API, "{\"platform\":\"nobody-uses-this\"}"));
        assertThat(empty.get("reason").asText()).isEqualTo("no_accounts");
        JsonNode served = select("\"model\":\"gpt-zzz\"");
        assertThat(served.get("account").get("id").asLong())
                .as("b serves every model")
                .isEqualTo(b);
        release(served);
    }

    @Test
    @Order(3)
    void report_sets_a_cooldown_the_next_select_honours_and_a_shorter_one_never_shortens() throws Exception {
        JsonNode r = report(a, "\"status\":529");
        assertThat(r.get("action").asText()).isEqualTo("cooldown");
        assertThat(r.get("kind").asText()).isEqualTo("overloaded");
        Instant until = Instant.parse(r.get("until").asText());
        assertThat(until).isAfter(Instant.now().plus(Duration.ofMinutes(50)));
        assertThat(r.get("account_id").asText()).isEqualTo(Long.toString(a));

        // The session bound to a is moved off it on the very next select, never served by it.
        JsonNode s = select("\"session_key\":\"conv-1\"");
        assertThat(s.get("result").asText()).isEqualTo("acquired");
        assertThat(s.get("account").get("id").asLong()).isEqualTo(b);
        assertThat(s.get("sticky").asBoolean()).isFalse();
        release(s);

        JsonNode long429 = report(b, "\"status\":429,\"retry_after_seconds\":7200");
        assertThat(long429.get("kind").asText()).isEqualTo("rate_limited");
        JsonNode short429 = report(b, "\"status\":429,\"retry_after_seconds\":60");
        assertThat(short429.get("until").asText())
                .isEqualTo(long429.get("until").asText());
        JsonNode resetAt =
                report(b, "\"status\":429,\"reset_at\":\"" + Instant.now().minusSeconds(60) + "\"");
        assertThat(resetAt.get("until").asText()).isEqualTo(long429.get("until").asText());
        assertThat(report(b, "\"status\":200").get("action").asText()).isEqualTo("none");

        JsonNode none = select("");
        assertThat(none.get("result").asText()).isEqualTo("none");
        // cooling_down while the cooldowns are only in Redis; no_accounts once replay has brought them
        // into the snapshots (the bucket then lists neither account).
        assertThat(none.get("reason").asText()).isIn("cooling_down", "no_accounts");
        // Replay may already have dropped a (its cooldown reached the snapshot) while b is still listed
        // and cooling: the answer then names b's end, else the earlier of the two.
        if (none.get("reason").asText().equals("cooling_down")) {
            assertThat(Instant.parse(none.get("until").asText()))
                    .isIn(until, Instant.parse(long429.get("until").asText()));
        }
    }

    @Test
    @Order(4)
    void metrics_and_openapi_list_selection() throws Exception {
        String m = send("GET", "/metrics", null, null).body();
        assertThat(m)
                .containsPattern("roster_selections_total\\{layer=\"load_aware\",result=\"acquired\"} [1-9]")
                .containsPattern("roster_selections_total\\{layer=\"sticky\",result=\"wait\"} [1-9]")
                .containsPattern("roster_selections_total\\{layer=\"fallback\",result=\"wait\"} [1-9]")
                .containsPattern("roster_selection_none_total\\{reason=\"saturated\"} [1-9]")
                .containsPattern("roster_sticky_sessions_total\\{outcome=\"hit\"} [1-9]")
                .containsPattern("roster_cooldowns_set_total\\{kind=\"overloaded\"} 1.0")
                .containsPattern("roster_slot_saturated_total [1-9]")
                .doesNotContain("account=");
        JsonNode doc = ok(send("GET", "/openapi.json", null, null));
        for (String p : new String[] {"/v1/select", "/v1/release", "/v1/renew", "/v1/report"}) {
            assertThat(doc.get("paths").get(p).get("post").get("tags").get(0).asText())
                    .as(p)
                    .isEqualTo("selection");
        }
    }

    static Stream<Arguments> badInputs() {
        String t = "0123456789abcdef0123456789abcdef";
        return Stream.of(
                Arguments.of("/v1/select", "{}", "field platform is required"),
                Arguments.of("/v1/select", "{\"platform\":\"Open AI\"}", "field platform must match"),
                Arguments.of("/v1/select", "{\"platform\":\"openai\",\"group\":-1}", "field group"),
                Arguments.of("/v1/select", "{\"platform\":\"openai\",\"excluded_ids\":[0]}", "field excluded_ids"),
                Arguments.of(
                        "/v1/select",
                        "{\"platform\":\"openai\",\"session_key\":\"" + "k".repeat(300) + "\"}",
                        "field session_key"),
                Arguments.of("/v1/select", "{\"platform\":\"openai\",\"wait_ticket\":\"nope\"}", "field wait_ticket"),
                Arguments.of("/v1/select", "{\"platform\":\"openai\",\"colour\":1}", "unknown field 'colour'"),
                Arguments.of("/v1/select", "{\"platform\":", "malformed JSON"),
                Arguments.of("/v1/release", "{\"account_id\":\"1\"}", "field token is required"),
                Arguments.of("/v1/release", "{\"account_id\":\"1\",\"token\":\"XYZ\"}", "field token must be"),
                Arguments.of("/v1/release", "{\"token\":\"" + t + "\"}", "field account_id is required"),
                Arguments.of(
                        "/v1/release",
                        "{\"wait_ticket\":\"1:" + t + "\",\"token\":\"" + t + "\"}",
                        "either wait_ticket or account_id"),
                Arguments.of("/v1/renew", "{\"wait_ticket\":\"1:" + t + "\"}", "field wait_ticket does not apply"),
                Arguments.of("/v1/renew", "{\"account_id\":0,\"token\":\"" + t + "\"}", "field account_id must be"),
                Arguments.of("/v1/report", "{\"account_id\":\"1\"}", "field status is required"),
                Arguments.of("/v1/report", "{\"account_id\":\"1\",\"status\":42}", "field status must be"),
                Arguments.of(
                        "/v1/report",
                        "{\"account_id\":\"1\",\"status\":429,\"retry_after_seconds\":-1}",
                        "field retry_after_seconds"),
                Arguments.of(
                        "/v1/report",
                        "{\"account_id\":\"1\",\"status\":429,\"retry_after_seconds\":1,"
                                + "\"reset_at\":\"2030-01-01T00:00:00Z\"}",
                        "either reset_at or retry_after_seconds"),
                Arguments.of("/v1/report", "{\"status\":429}", "field account_id is required"),
                Arguments.of(
                        "/v1/report",
                        "{\"account_id\":\"1\",\"error_class\":\"melted\"}",
                        "field error_class must be one of"),
                Arguments.of(
                        "/v1/report",
                        "{\"account_id\":\"1\",\"error_class\":\"model_unsupported\"}",
                        "field model is required"),
                Arguments.of(
                        "/v1/report",
                        "{\"account_id\":\"1\",\"error_class\":\"model_unsupported\",\"model\":\"" + "m".repeat(129)
                                + "\"}",
                        "field model must be at most 128"),
                Arguments.of(
                        "/v1/report",
                        "{\"account_id\":\"1\",\"status\":529,\"retry_after_seconds\":5}",
                        "field retry_after_seconds applies only"),
                Arguments.of(
                        "/v1/select", "{\"platform\":\"openai\",\"model\":\"" + "m".repeat(129) + "\"}", "field model"),
                Arguments.of(
                        "/v1/select", "{\"platform\":\"openai\",\"model\":\"gpt 4\"}", "field model must consist"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource
    @Order(5)
    void badInputs(String path, String body, String message) throws Exception {
        HttpResponse<String> r = send("POST", path, API, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        JsonNode e = JSON.readTree(r.body());
        assertThat(e.get("error").asText()).isEqualTo("bad_request");
        assertThat(e.get("message").asText()).contains(message);
        assertThat(r.body()).doesNotContain("Exception");
    }

    @Test
    @Order(5)
    void report_of_an_unknown_account_is_404_and_writes_nothing() throws Exception {
        long unknown = 987_654_321L;
        HttpResponse<String> r = send(
                "POST",
                "/v1/report",
                API,
                "{\"account_id\":\"" + unknown + "\",\"error_class\":\"model_unsupported\",\"model\":\"gpt-a\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(404);
        assertThat(JSON.readTree(r.body()).get("message").asText())
                .contains("field account_id")
                .contains(Long.toString(unknown));
        assertThat(send("POST", "/v1/report", API, "{\"account_id\":\"" + unknown + "\",\"status\":429}")
                        .statusCode())
                .isEqualTo(404);
    }

    @Test
    @Order(5)
    void a_refused_model_cools_that_model_on_that_account_only() throws Exception {
        JsonNode r = report(b, "\"error_class\":\"model_unsupported\",\"model\":\"gpt-zzz\",\"status\":404");
        assertThat(r.get("action").asText()).isEqualTo("cooldown");
        assertThat(r.get("kind").asText()).isEqualTo("model_unsupported");
        assertThat(r.get("model").asText()).isEqualTo("gpt-zzz");
        assertThat(r.get("streak").asInt()).isEqualTo(1);
        assertThat(Instant.parse(r.get("until").asText()))
                .isBetween(
                        Instant.now().plus(Duration.ofMinutes(25)),
                        Instant.now().plus(Duration.ofMinutes(31)));
        assertThat(r.get("persisted").asBoolean()).isTrue();
        JsonNode q = report(a, "\"error_class\":\"quota_exhausted\",\"retry_after_seconds\":600");
        assertThat(q.get("kind").asText()).isEqualTo("rate_limited");
        assertThat(report(a, "\"error_class\":\"success\",\"model\":\"gpt-a\"")
                        .get("action")
                        .asText())
                .isEqualTo("none");
    }

    @Test
    @Order(6)
    void selection_needs_the_api_token() throws Exception {
        for (String p : new String[] {"/v1/select", "/v1/release", "/v1/renew", "/v1/report"}) {
            HttpResponse<String> r = send("POST", p, null, "{\"platform\":\"openai\"}");
            assertThat(r.statusCode()).as(p).isEqualTo(401);
            assertThat(send("POST", p, ADMIN, "{\"platform\":\"openai\"}").statusCode())
                    .as(p)
                    .isEqualTo(401);
        }
        assertThat(String.join("\n", server.err)).doesNotContain(API).doesNotContain("sk-sel-secret");
    }
}
