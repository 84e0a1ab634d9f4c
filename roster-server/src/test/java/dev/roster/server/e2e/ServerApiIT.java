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
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
 * The real server jar on its embedded PostgreSQL and Redis, driven over HTTP: every endpoint, the
 * tokens, the bad inputs, and a graceful SIGTERM at the end.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ServerApiIT {
    static final String ADMIN = "admin-token-0123456789abcdef";
    static final String API = "api-token-0123456789abcdef";
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    static Path dir;

    static ServerJar server;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        Files.writeString(dir.resolve("roster.yaml"), """
                server:
                  port: 0
                  admin_token: %s
                  max_body_bytes: 4096
                embedded:
                  data_dir: ./data
                gateway:
                  scheduling:
                    outbox_poll_interval_seconds: 1
                    fallback_selection_mode: last_used
                """.formatted(ADMIN));
        // The api token comes from the environment, as an operator would pass a secret.
        server = ServerJar.start(dir, Map.of("ROSTER_SERVER_API_TOKEN", API), "serve");
        base = server.awaitListening(Duration.ofMinutes(2));
        await().atMost(Duration.ofSeconds(60))
                .until(() -> get("/health/ready", null).statusCode() == 200);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static HttpResponse<String> send(String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        b.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(String path, String token) throws Exception {
        return send("GET", path, token, null);
    }

    static JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 299);
        assertThat(r.headers().firstValue("Content-Type"))
                .hasValueSatisfying(v -> assertThat(v).contains("json"));
        return json(r);
    }

    @Test
    @Order(1)
    void first_lines_say_what_is_embedded_and_where() {
        assertThat(server.out.get(0)).contains("configuration from");
        assertThat(server.out.get(1))
                .contains("embedded PostgreSQL 17 on 127.0.0.1:")
                .contains("data");
        assertThat(server.out.get(2)).contains("embedded Redis").contains("data");
        // the unused pasted scheduling key is one warning, not an error
        assertThat(server.err.stream().filter(l -> l.contains("fallback_selection_mode")))
                .hasSize(1);
    }

    @Test
    @Order(2)
    void health_metrics_and_openapi() throws Exception {
        assertThat(ok(get("/health/live", null)).get("status").asText()).isEqualTo("live");
        assertThat(ok(get("/health/ready", null)).get("status").asText()).isEqualTo("ready");
        JsonNode doc = ok(get("/openapi.json", null));
        assertThat(doc.get("openapi").asText()).startsWith("3.");
        assertThat(doc.get("paths").has("/v1/schedulable")).isTrue();
        assertThat(doc.get("paths").has("/admin/accounts/{id}/groups")).isTrue();
        assertThat(doc.get("paths").has("/v1/select")).isTrue();
        HttpResponse<String> m = get("/metrics", null);
        assertThat(m.statusCode()).isEqualTo(200);
        assertThat(m.body()).contains("roster_ready 1.0").contains("roster_full_rebuilds_total");
    }

    static long group1;
    static long account1;
    static long account2;

    @Test
    @Order(3)
    void admin_crud_reaches_the_hot_path() throws Exception {
        group1 = ok(send("POST", "/admin/groups", ADMIN, "{\"name\":\"claude-main\",\"platform\":\"anthropic\"}"))
                .get("id")
                .asLong();
        JsonNode a = ok(send("POST", "/admin/accounts", ADMIN, """
                {"name":"a1","platform":"anthropic","type":"apikey","priority":5,
                 "credentials":{"api_key":"sk-very-secret","model_mapping":{"claude-x":"claude-x"}},
                 "groups":[{"id":"%d","priority":2}]}
                """.formatted(group1)));
        account1 = a.get("id").asLong();
        assertThat(a.get("id").isTextual()).as("64-bit ids are strings").isTrue();
        assertThat(a.toString()).doesNotContain("sk-very-secret").doesNotContain("api_key");
        assertThat(a.get("credentials_set").asBoolean()).isTrue();
        assertThat(a.get("supported_models").get(0).asText()).isEqualTo("claude-x");
        account2 = ok(send(
                        "POST",
                        "/admin/accounts",
                        ADMIN,
                        "{\"name\":\"a2\",\"platform\":\"anthropic\",\"type\":\"oauth\",\"priority\":1,"
                                + "\"groups\":[{\"id\":" + group1 + ",\"priority\":1}]}"))
                .get("id")
                .asLong();

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            JsonNode s = ok(get("/v1/schedulable?group=" + group1 + "&platform=anthropic", API));
            assertThat(s.get("bucket").asText()).isEqualTo(group1 + ":anthropic:mixed");
            assertThat(s.get("use_mixed").asBoolean()).isTrue();
            assertThat(s.get("version").isTextual()).isTrue();
            List<Long> ids = new ArrayList<>();
            s.get("accounts").forEach(c -> ids.add(c.get("id").asLong()));
            assertThat(ids).containsExactly(account2, account1); // link priority 1 before 2
        });
        JsonNode forced = ok(get("/v1/schedulable?group=" + group1 + "&platform=anthropic&force=true", API));
        assertThat(forced.get("bucket").asText()).isEqualTo(group1 + ":anthropic:forced");
        assertThat(ok(get("/v1/schedulable?platform=nobody-uses-this", API)).get("accounts"))
                .isEmpty();

        JsonNode card = ok(get("/v1/accounts/" + account1, API));
        assertThat(card.get("name").asText()).isEqualTo("a1");
        assertThat(card.toString()).doesNotContain("sk-very-secret");
        assertThat(card.get("last_used_at").isNull()).isTrue();
        JsonNode used = ok(send("POST", "/v1/accounts/" + account1 + "/used", API, null));
        assertThat(used.get("last_used_at").asText()).endsWith("Z");
        assertThat(ok(get("/v1/accounts/" + account1, API)).get("last_used_at").asText())
                .isEqualTo(used.get("last_used_at").asText());
        assertThat(get("/v1/accounts/999999", API).statusCode()).isEqualTo(404);
        assertThat(send("POST", "/v1/accounts/999999/used", API, null).statusCode())
                .isEqualTo(404);

        // reads and pages of the admin API
        assertThat(ok(get("/admin/accounts/" + account1, ADMIN))
                        .get("groups")
                        .get(0)
                        .get("priority")
                        .asInt())
                .isEqualTo(2);
        JsonNode page = ok(get("/admin/accounts?limit=1", ADMIN));
        assertThat(page.get("items")).hasSize(1);
        assertThat(page.get("next_after").asLong())
                .isEqualTo(page.get("items").get(0).get("id").asLong());
        assertThat(ok(get("/admin/groups", ADMIN)).get("items")).isNotEmpty();
        assertThat(ok(get("/admin/groups/" + group1, ADMIN)).get("members").asLong())
                .isEqualTo(2);

        // a rename by merge patch (a PUT must name every field) keeps the credentials; links reordered
        // through the groups endpoint
        JsonNode put = ok(send("PATCH", "/admin/accounts/" + account1, ADMIN, "{\"name\":\"a1-renamed\"}"));
        assertThat(put.get("credentials_set").asBoolean()).isTrue();
        ok(send(
                "PUT",
                "/admin/accounts/" + account1 + "/groups",
                ADMIN,
                "{\"groups\":[{\"id\":" + group1 + ",\"priority\":0}]}"));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            JsonNode s = ok(get("/v1/schedulable?group=" + group1 + "&platform=anthropic", API));
            assertThat(s.get("accounts").get(0).get("id").asLong()).isEqualTo(account1);
            assertThat(s.get("accounts").get(0).get("name").asText()).isEqualTo("a1-renamed");
        });

        // a second group, renamed, then deleted
        long g2 = ok(send("POST", "/admin/groups", ADMIN, "{\"name\":\"g2\",\"platform\":\"openai\"}"))
                .get("id")
                .asLong();
        assertThat(ok(send(
                                "PUT",
                                "/admin/groups/" + g2,
                                ADMIN,
                                "{\"name\":\"g2b\",\"platform\":\"openai\"," + "\"status\":\"disabled\"}"))
                        .get("status")
                        .asText())
                .isEqualTo("disabled");
        assertThat(ok(send("DELETE", "/admin/groups/" + g2, ADMIN, null))
                        .get("deleted")
                        .asBoolean())
                .isTrue();
        assertThat(send("DELETE", "/admin/groups/" + g2, ADMIN, null).statusCode())
                .isEqualTo(404);

        // delete an account: it leaves the bucket
        assertThat(ok(send("DELETE", "/admin/accounts/" + account2, ADMIN, null))
                        .get("deleted")
                        .asBoolean())
                .isTrue();
        await().atMost(Duration.ofSeconds(20))
                .untilAsserted(() -> assertThat(ok(get("/v1/schedulable?group=" + group1 + "&platform=anthropic", API))
                                .get("accounts"))
                        .hasSize(1));
    }

    @Test
    @Order(4)
    void operations_endpoints() throws Exception {
        JsonNode b = ok(send("POST", "/admin/rebuild", ADMIN, "{\"bucket\":\"" + group1 + ":anthropic:mixed\"}"));
        assertThat(b.get("outcome").asText()).isEqualTo("rebuilt");
        JsonNode all = ok(send("POST", "/admin/rebuild", ADMIN, null));
        assertThat(all.get("target").asText()).isEqualTo("all");
        JsonNode buckets = ok(get("/admin/buckets", ADMIN));
        assertThat(buckets.get("buckets").toString()).contains(group1 + ":anthropic:mixed");
        JsonNode outbox = ok(get("/admin/outbox", ADMIN));
        assertThat(outbox.has("watermark")).isTrue();
        assertThat(outbox.has("pending")).isTrue();
        assertThat(outbox.get("dead_letters").asText()).isEqualTo("0");
        JsonNode audit = ok(get("/admin/audit", ADMIN));
        assertThat(audit.get("clean").asBoolean()).as(audit.toString()).isTrue();
        assertThat(audit.get("checked").asInt()).isPositive();
        JsonNode serving = audit.get("serving");
        assertThat(serving.get("clean").asBoolean()).as(audit.toString()).isTrue();
        assertThat(serving.get("instances").asInt())
                .as("this server's own digest")
                .isEqualTo(1);
        assertThat(serving.get("stale")).as(audit.toString()).isEmpty();

        // a dead letter (written as the replayer would) is listed, retried and gone
        try (Connection c = DriverManager.getConnection(
                        "jdbc:postgresql://127.0.0.1:" + server.postgresPort() + "/postgres", "postgres", "");
                Statement st = c.createStatement()) {
            st.execute("INSERT INTO scheduler_outbox_dead_letter (event_id, event_type, error, attempts)"
                    + " VALUES (424242, 'account_changed', 'test poison', 5)");
        }
        JsonNode dead = ok(get("/admin/outbox/dead-letters", ADMIN));
        assertThat(dead.get("dead_letters").get(0).get("event_id").asText()).isEqualTo("424242");
        assertThat(ok(send("POST", "/admin/outbox/dead-letters/424242/retry", ADMIN, null))
                        .get("requeued")
                        .asBoolean())
                .isTrue();
        assertThat(ok(get("/admin/outbox/dead-letters", ADMIN)).get("dead_letters"))
                .isEmpty();
        assertThat(send("POST", "/admin/outbox/dead-letters/424242/retry", ADMIN, null)
                        .statusCode())
                .isEqualTo(404);

        String metrics = get("/metrics", null).body();
        assertThat(metrics)
                .contains("roster_hot_path_hits_total{tier=")
                .contains("roster_http_requests_seconds_count{method=\"GET\",route=\"/v1/schedulable\",status=\"200\"}")
                .doesNotContain("group=")
                .doesNotContain("account=");
    }

    static Stream<Arguments> auth() {
        return Stream.of(
                Arguments.of("GET", "/admin/buckets", null, "missing bearer token"),
                Arguments.of("GET", "/admin/buckets", "wrong-token-0123456789", "invalid bearer token"),
                Arguments.of("GET", "/admin/buckets", API, "invalid bearer token"),
                Arguments.of("GET", "/v1/schedulable?platform=anthropic", null, "missing bearer token"),
                Arguments.of("GET", "/v1/schedulable?platform=anthropic", ADMIN, "invalid bearer token"),
                Arguments.of("POST", "/admin/accounts", null, "missing bearer token"));
    }

    @ParameterizedTest(name = "{0} {1} with {2}")
    @MethodSource
    @Order(5)
    void auth(String method, String path, String token, String message) throws Exception {
        HttpResponse<String> r = send(method, path, token, method.equals("POST") ? "{}" : null);
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("WWW-Authenticate")).isPresent();
        JsonNode e = json(r);
        assertThat(e.get("error").asText()).isEqualTo("unauthorized");
        assertThat(e.get("message").asText()).contains(message);
    }

    static Stream<Arguments> badInputs() {
        String big = "{\"name\":\"" + "x".repeat(5000) + "\",\"platform\":\"anthropic\",\"type\":\"apikey\"}";
        return Stream.of(
                Arguments.of("GET", "/v1/schedulable?platform=Anthropic!", null, 400, "platform must match"),
                Arguments.of("GET", "/v1/schedulable?platform=" + "a".repeat(40), null, 400, "platform must match"),
                Arguments.of("GET", "/v1/schedulable", null, 400, "platform is required"),
                Arguments.of(
                        "GET",
                        "/v1/schedulable?platform=openai&group=-1",
                        null,
                        400,
                        "group must be a non-negative integer"),
                Arguments.of(
                        "GET",
                        "/v1/schedulable?platform=openai&group=abc",
                        null,
                        400,
                        "group must be a non-negative integer"),
                Arguments.of("GET", "/v1/schedulable?platform=openai&group=99999999999999999999", null, 400, "group"),
                Arguments.of(
                        "GET", "/v1/schedulable?platform=openai&force=maybe", null, 400, "force must be true or false"),
                Arguments.of("GET", "/v1/accounts/-5", null, 400, "id must be a non-negative integer"),
                Arguments.of("GET", "/v1/accounts/abc", null, 400, "id must be a non-negative integer"),
                Arguments.of("GET", "/v1/accounts/0", null, 400, "id must be a positive integer"),
                Arguments.of("POST", "/v1/accounts/1.5/used", null, 400, "id must be a non-negative integer"),
                Arguments.of("POST", "/admin/accounts", "{\"name\":", 400, "malformed JSON"),
                Arguments.of("POST", "/admin/accounts", "[1,2]", 400, "malformed JSON"),
                Arguments.of(
                        "POST",
                        "/admin/accounts",
                        "{\"name\":\"x\",\"platform\":\"anthropic\",\"type\":\"k\",\"colour\":1}",
                        400,
                        "unknown field 'colour'"),
                Arguments.of(
                        "POST",
                        "/admin/accounts",
                        "{\"name\":\"x\",\"platform\":\"Bad Platform\",\"type\":\"k\"}",
                        400,
                        "platform must match"),
                Arguments.of(
                        "POST",
                        "/admin/accounts",
                        "{\"name\":\"x\",\"platform\":\"openai\",\"type\":\"k\",\"priority\":-1}",
                        400,
                        "priority must not be negative"),
                Arguments.of("POST", "/admin/accounts", big, 413, "exceeds server.max_body_bytes"),
                Arguments.of(
                        "PUT",
                        "/admin/accounts/1/groups",
                        "{\"groups\":[{\"id\":-1}]}",
                        400,
                        "group ids must be positive"),
                Arguments.of("PUT", "/admin/accounts/1/groups", "{\"groups\":[{\"id\":\"x\"}]}", 400, "malformed JSON"),
                Arguments.of("POST", "/admin/rebuild", "{\"bucket\":\"nonsense\"}", 400, "bucket must be g:p:m"),
                Arguments.of("GET", "/admin/accounts?limit=0", null, 400, "limit must be between 1 and 500"),
                Arguments.of("GET", "/admin/groups/-3", null, 400, "id must be a non-negative integer"),
                Arguments.of("GET", "/admin/groups/77777", null, 404, "group 77777 not found"),
                Arguments.of("GET", "/no/such/route", null, 404, "no route"),
                Arguments.of("DELETE", "/v1/schedulable", null, 405, "not allowed"));
    }

    @ParameterizedTest(name = "{0} {1} -> {3}")
    @MethodSource
    @Order(6)
    void badInputs(String method, String path, String body, int status, String message) throws Exception {
        String token = path.startsWith("/admin") ? ADMIN : API;
        HttpResponse<String> r = send(method, path, token, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        JsonNode e = json(r);
        assertThat(e.get("message").asText()).contains(message);
        assertThat(e.get("error").asText()).isIn("bad_request", "not_found");
        assertThat(r.body()).doesNotContain("\tat ").doesNotContain("Exception");
    }

    @Test
    @Order(7)
    void deadline_header_is_validated() throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/v1/schedulable?platform=openai"))
                .header("Authorization", "Bearer " + API)
                .header("X-Roster-Deadline-Ms", "soon")
                .build();
        HttpResponse<String> r = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("X-Roster-Deadline-Ms");
        HttpRequest good = HttpRequest.newBuilder(URI.create(base + "/v1/schedulable?platform=openai"))
                .header("Authorization", "Bearer " + API)
                .header("X-Roster-Deadline-Ms", "250")
                .build();
        assertThat(HTTP.send(good, HttpResponse.BodyHandlers.ofString()).statusCode())
                .isEqualTo(200);
    }

    @Test
    @Order(8)
    void logs_carry_request_ids_and_no_secrets() {
        List<String> lines = new ArrayList<>(server.err);
        assertThat(lines).anyMatch(l -> l.contains("event=request") && l.contains("request_id="));
        assertThat(String.join("\n", lines))
                .doesNotContain(ADMIN)
                .doesNotContain(API)
                .doesNotContain("sk-very-secret")
                .doesNotContain("WARNING: ");
        assertThat(lines)
                .allMatch(l -> l.startsWith("ts=") || l.startsWith("roster: warning:"), "one-line structured logs");
    }

    @Test
    @Order(9)
    void sigterm_stops_gracefully() throws Exception {
        assertThat(server.process.isAlive())
                .as("server still running before SIGTERM")
                .isTrue();
        int code = server.terminate(Duration.ofSeconds(60));
        assertThat(server.err)
                .as("exit code %d, stdout %s", code, server.out)
                .anyMatch(l -> l.contains("event=shutdown phase=begin"))
                .anyMatch(l -> l.contains("event=shutdown phase=done"));
    }
}
