package dev.roster.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.roster.Roster;
import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.config.SelectionConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.config.TicketSecret;
import dev.roster.core.selection.Tokens;
import dev.roster.server.app.BackendSource;
import dev.roster.server.app.LibraryBackend;
import dev.roster.server.config.RosterConfig;
import dev.roster.testkit.PostgresHarness;
import dev.roster.testkit.PostgresHarness.TestDatabase;
import dev.roster.testkit.RedisHarness;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /v1/select} and {@code /v1/report} over HTTP on real PostgreSQL and Redis: a client that follows
 * {@code wait_until} stops at the configured wait timeout (decision SP1), a made-up or altered ticket is
 * 400 naming {@code wait_ticket}, and bad input is 400/404 naming the field with the account's Redis keys
 * unchanged (decision SP5).
 */
class SelectionInputTest {
    static final String ADMIN = "admin-token-0123456789abcdef";
    static final String SECRET = "selection-input-test-secret-0123456789";
    static final Duration WAIT = Duration.ofSeconds(2);
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static TestDatabase db;
    static LibraryBackend backend;
    static HttpServer server;
    static String base;
    static String prefix;
    static long group;
    static long account;

    @BeforeAll
    static void start() throws Exception {
        db = PostgresHarness.shared().newDatabase("selection-input");
        prefix = RedisHarness.shared().keyPrefix(SelectionInputTest.class);
        ServiceConfig config = ServiceConfig.DEFAULTS
                .withScheduling(SchedulingConfig.DEFAULTS.toBuilder()
                        .fallbackWaitTimeout(WAIT)
                        .fallbackMaxWaiting(5)
                        .build())
                .withSelection(SelectionConfig.DEFAULTS.withWaitTicketSecret(TicketSecret.of(SECRET)));
        backend = new LibraryBackend(Roster.builder()
                .jdbc(db.jdbcUrl(), db.user(), db.password())
                .poolSize(4)
                .redisUri(RedisHarness.shared().uri())
                .keyPrefix(prefix)
                .config(config)
                .build());
        BackendSource source = BackendSource.of(backend);
        RosterConfig.Server cfg = new RosterConfig.Server(
                "127.0.0.1", 0, ADMIN, "", true, 8, Duration.ofSeconds(10), 65536, Duration.ofSeconds(5));
        server = new HttpServer(cfg, source, new Metrics(source));
        base = "http://127.0.0.1:" + server.start();
        group = ok(send("/admin/groups", "{\"name\":\"in\",\"platform\":\"openai\"}"))
                .get("id")
                .asLong();
        account = ok(send("/admin/accounts", """
                        {"name":"in-a","platform":"openai","type":"apikey","priority":1,"concurrency":1,
                         "groups":[{"id":"%d","priority":1}]}
                        """.formatted(group))).get("id").asLong();
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(select("")).asString().contains("\"result\":\"acquired\""));
        // That probe's slot: free it again.
        clearAccountKeys();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.stop(Duration.ZERO);
        }
        if (backend != null) {
            backend.close();
        }
    }

    static HttpResponse<String> send(String path, String body) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (path.startsWith("/admin")) {
            r.header("Authorization", "Bearer " + ADMIN);
        }
        return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 299);
        return JSON.readTree(r.body());
    }

    static String selectBody(String extra) {
        return "{\"group\":\"" + group + "\",\"platform\":\"openai\"" + (extra.isEmpty() ? "" : "," + extra) + "}";
    }

    static JsonNode select(String extra) throws Exception {
        return ok(send("/v1/select", selectBody(extra)));
    }

    static String retry(JsonNode wait) {
        return "\"wait_ticket\":\"" + wait.get("wait_ticket").asText() + "\",\"wait_until\":\""
                + wait.get("wait_until").asText() + "\"";
    }

    /** Every Redis key of the account with its content (TTLs aside): what "nothing written" compares. */
    static Map<String, String> accountKeys() {
        RedisHarness r = RedisHarness.shared();
        Map<String, String> out = new TreeMap<>();
        Object keys = r.command("KEYS", prefix + "{" + account + "}:*");
        for (Object k : (List<?>) keys) {
            String key = String.valueOf(k);
            String type = String.valueOf(r.command("TYPE", key));
            Object content = switch (type) {
                case "zset" -> r.command("ZRANGE", key, "0", "-1", "WITHSCORES");
                case "hash" -> r.command("HGETALL", key);
                case "string" -> r.command("GET", key);
                default -> type;
            };
            out.put(key, String.valueOf(content));
        }
        return out;
    }

    static void clearAccountKeys() {
        RedisHarness r = RedisHarness.shared();
        for (String suffix : List.of("slots", "wait", "cool", "mcool", "fails", "rpm")) {
            r.command("DEL", prefix + "{" + account + "}:" + suffix);
        }
    }

    // ---- waits that end (decision SP1) -------------------------------------------------------------

    @Test
    void a_client_following_wait_until_stops_at_the_wait_timeout() throws Exception {
        clearAccountKeys();
        JsonNode held = select("");
        assertThat(held.get("result").asText()).isEqualTo("acquired");
        JsonNode first = select("");
        Instant asked = Instant.now();
        assertThat(first.get("result").asText()).isEqualTo("wait");
        assertThat(first.get("wait_ticket").asText()).matches("[0-9]+:[0-9a-f]{32}:[0-9a-f]{32}");
        Instant until = Instant.parse(first.get("wait_until").asText());
        assertThat(until).isBetween(asked.minus(WAIT).plusMillis(500), asked.plus(WAIT));

        // The client retries as told until it is told to stop; every wait names the same deadline.
        AtomicReference<JsonNode> last = new AtomicReference<>(first);
        await().atMost(WAIT.multipliedBy(5))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    JsonNode n = select(retry(last.get()));
                    last.set(n);
                    if (n.get("result").asText().equals("wait")) {
                        assertThat(Instant.parse(n.get("wait_until").asText())).isEqualTo(until);
                        return false;
                    }
                    return true;
                });
        Instant stopped = Instant.now();
        JsonNode end = last.get();
        assertThat(end.get("result").asText()).isEqualTo("none");
        assertThat(end.get("reason").asText()).isEqualTo("wait_expired");
        assertThat(Instant.parse(end.get("until").asText())).isEqualTo(until);
        assertThat(stopped).isAfterOrEqualTo(until).isBefore(until.plusSeconds(2));
        assertThat(RedisHarness.shared().command("ZCARD", prefix + "{" + account + "}:wait"))
                .as("the place was handed back")
                .isEqualTo(0L);
        ok(send(
                "/v1/release",
                "{\"account_id\":\"" + account + "\",\"token\":\""
                        + held.get("lease").get("token").asText() + "\"}"));
    }

    @Test
    void a_made_up_or_altered_ticket_is_400_naming_wait_ticket_and_takes_no_slot() throws Exception {
        clearAccountKeys();
        JsonNode held = select("");
        JsonNode wait = select("");
        assertThat(wait.get("result").asText()).isEqualTo("wait");
        ok(send(
                "/v1/release",
                "{\"account_id\":\"" + account + "\",\"token\":\""
                        + held.get("lease").get("token").asText() + "\"}"));
        // The account is free now: a ticket that earned a direct slot attempt would be served.
        Map<String, String> before = accountKeys();
        String future = Instant.now().plusSeconds(60).toString();
        String ticket = wait.get("wait_ticket").asText();
        String place = ticket.substring(0, ticket.lastIndexOf(':'));
        Map<String, String> bad = Map.of(
                "made up",
                "\"wait_ticket\":\"" + account + ":" + Tokens.random() + ":" + Tokens.random() + "\",\"wait_until\":\""
                        + future + "\"",
                "deadline moved",
                "\"wait_ticket\":\"" + ticket + "\",\"wait_until\":\"" + future + "\"",
                "seal changed",
                "\"wait_ticket\":\"" + place + ":" + Tokens.random() + "\",\"wait_until\":\""
                        + wait.get("wait_until").asText() + "\"",
                "unsealed",
                "\"wait_ticket\":\"" + place + "\",\"wait_until\":\""
                        + wait.get("wait_until").asText() + "\"");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            HttpResponse<String> r = send("/v1/select", selectBody(e.getValue()));
            assertThat(r.statusCode()).as(e.getKey() + ": " + r.body()).isEqualTo(400);
            assertThat(JSON.readTree(r.body()).get("message").asText())
                    .as(e.getKey())
                    .contains("field wait_ticket");
        }
        HttpResponse<String> foreign =
                send("/v1/select", selectBody("\"session_key\":\"someone-else\"," + retry(wait)));
        assertThat(foreign.statusCode()).as(foreign.body()).isEqualTo(400);
        assertThat(foreign.body()).contains("field wait_ticket").contains("not issued for this request");
        HttpResponse<String> noUntil = send("/v1/select", selectBody("\"wait_ticket\":\"" + ticket + "\""));
        assertThat(noUntil.statusCode()).isEqualTo(400);
        assertThat(noUntil.body()).contains("field wait_until");
        assertThat(accountKeys())
                .as("no slot taken, the genuine place still held")
                .isEqualTo(before);
        // The genuine ticket still works: the free slot is its.
        JsonNode served = select(retry(wait));
        assertThat(served.get("result").asText()).isEqualTo("acquired");
        assertThat(served.get("layer").asText()).isEqualTo("fallback");
    }

    // ---- bad input on select and report (decision SP5) ---------------------------------------------

    static List<String[]> badBodies() {
        String acc = "\"account_id\":\"" + account + "\",";
        String ids = String.join(",", java.util.Collections.nCopies(1001, "\"7\""));
        return List.<String[]>of(
                new String[] {"/v1/report", "{\"account_id\":\"987654321\",\"status\":429}", "404", "field account_id"},
                new String[] {"/v1/report", "{\"account_id\":\"abc\",\"status\":429}", "400", "field account_id"},
                new String[] {"/v1/report", "{\"account_id\":0,\"status\":429}", "400", "field account_id"},
                new String[] {
                    "/v1/report",
                    "{" + acc + "\"status\":429,\"retry_after_seconds\":-5}",
                    "400",
                    "field retry_after_seconds"
                },
                new String[] {
                    "/v1/report",
                    "{" + acc + "\"status\":429,\"retry_after_seconds\":99999999999}",
                    "400",
                    "field retry_after_seconds"
                },
                new String[] {
                    "/v1/report",
                    "{" + acc + "\"status\":429,\"retry_after_seconds\":\"soon\"}",
                    "400",
                    "field retry_after_seconds"
                },
                new String[] {
                    "/v1/report",
                    "{" + acc + "\"status\":429,\"reset_at\":\"2000-01-01T00:00:00Z\"}",
                    "400",
                    "field reset_at"
                },
                new String[] {
                    "/v1/report",
                    "{" + acc + "\"status\":429,\"reset_at\":\"2999-01-01T00:00:00Z\"}",
                    "400",
                    "field reset_at"
                },
                new String[] {
                    "/v1/report", "{" + acc + "\"status\":429,\"reset_at\":\"tomorrow\"}", "400", "field reset_at"
                },
                new String[] {"/v1/report", "{" + acc + "\"error_class\":\"melted\"}", "400", "field error_class"},
                new String[] {"/v1/report", "{" + acc + "\"status\":42}", "400", "field status"},
                new String[] {
                    "/v1/report",
                    "{" + acc + "\"error_class\":\"model_unsupported\",\"model\":\"" + "m".repeat(129) + "\"}",
                    "400",
                    "field model"
                },
                new String[] {
                    "/v1/report",
                    "{" + acc + "\"error_class\":\"model_unsupported\",\"model\":\"gpt 4\\n\"}",
                    "400",
                    "field model"
                },
                new String[] {
                    "/v1/report",
                    "{" + acc + "\"status\":429,\"message\":\"" + "x".repeat(501) + "\"}",
                    "400",
                    "field message"
                },
                new String[] {"/v1/report", "{" + acc + "\"status\":200,\"ttft_ms\":-1}", "400", "field ttft_ms"},
                new String[] {"/v1/report", "{" + acc + "\"status\":200,\"ttft_ms\":86400001}", "400", "field ttft_ms"},
                new String[] {"/v1/report", "{" + acc + "\"status\":200,\"ttft_ms\":\"fast\"}", "400", "field ttft_ms"},
                new String[] {"/v1/report", "{" + acc + "\"status\":200,\"ttft_ms\":1.5}", "400", "field ttft_ms"},
                new String[] {
                    "/v1/report", "{" + acc + "\"status\":200,\"ttft_ms\":99999999999999999999}", "400", "field ttft_ms"
                },
                new String[] {"/v1/select", selectBody("\"model\":\"" + "m".repeat(129) + "\""), "400", "field model"},
                new String[] {"/v1/select", selectBody("\"model\":\"gpt/../\\u0000\""), "400", "field model"},
                new String[] {"/v1/select", selectBody("\"excluded_ids\":[\"x\"]"), "400", "field excluded_ids"},
                new String[] {"/v1/select", selectBody("\"excluded_ids\":[0]"), "400", "field excluded_ids"},
                new String[] {"/v1/select", selectBody("\"excluded_ids\":[" + ids + "]"), "400", "field excluded_ids"},
                new String[] {"/v1/select", selectBody("\"excluded_ids\":\"1,2\""), "400", "field excluded_ids"},
                new String[] {
                    "/v1/select", selectBody("\"session_key\":\"" + "k".repeat(300) + "\""), "400", "field session_key"
                },
                new String[] {"/v1/select", selectBody("\"session_key\":\"a\\u0001b\""), "400", "field session_key"},
                new String[] {"/v1/select", selectBody("\"wait_ticket\":\"nope\""), "400", "field wait_ticket"},
                new String[] {"/v1/select", "{\"group\":\"x\",\"platform\":\"openai\"}", "400", "field group"});
    }

    @Test
    void bad_input_on_select_and_report_names_the_field_and_writes_nothing() throws Exception {
        clearAccountKeys();
        // A model cooldown (kept in Redis only, never persisted) so there is state a bad report could move.
        ok(send(
                "/v1/report",
                "{\"account_id\":\"" + account + "\",\"error_class\":\"model_unsupported\","
                        + "\"model\":\"gpt-refused\"}"));
        Map<String, String> before = accountKeys();
        assertThat(before).containsKeys(prefix + "{" + account + "}:mcool", prefix + "{" + account + "}:fails");
        for (String[] c : badBodies()) {
            HttpResponse<String> r = send(c[0], c[1]);
            String what = c[0] + " " + Call.clip(c[1]);
            assertThat(r.statusCode()).as(what + " -> " + r.body()).isEqualTo(Integer.parseInt(c[2]));
            JsonNode e = JSON.readTree(r.body());
            assertThat(e.get("message").asText()).as(what).contains(c[3]);
            assertThat(r.body()).as(what).doesNotContain("Exception").doesNotContain("\tat ");
            assertThat(accountKeys()).as(what + ": nothing written").isEqualTo(before);
        }
    }
}
