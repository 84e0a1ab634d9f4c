package dev.roster.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.roster.Roster;
import dev.roster.core.config.SelectionConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.server.app.BackendSource;
import dev.roster.server.app.LibraryBackend;
import dev.roster.server.config.RosterConfig;
import dev.roster.testkit.PostgresHarness;
import dev.roster.testkit.PostgresHarness.TestDatabase;
import dev.roster.testkit.RedisHarness;
import dev.roster.testkit.TestClock;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Quota windows reported over {@code POST /v1/report} (decision SP4), on the in-process server with real
 * PostgreSQL and Redis and the application clock under the test's hand: a window used at or past the
 * account's threshold makes {@code select} skip it until the window resets, then it serves again; a report
 * whose reset has passed pauses nothing; bad quota fields are 400 naming the field with nothing written.
 *
 * <p>Account {@code a} (priority 1, {@code quota_threshold_5h} 95, default 7-day threshold 100) is alone in
 * group {@code only} and shares group {@code both} with {@code b} (priority 2).
 */
class QuotaReportTest {
    static final String ADMIN = "admin-token-0123456789abcdef";
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static final TestClock CLOCK = TestClock.following();

    static TestDatabase db;
    static LibraryBackend backend;
    static HttpServer server;
    static String base;
    static String prefix;
    static long only;
    static long both;
    static long a;
    static long b;

    @BeforeAll
    static void start() throws Exception {
        db = PostgresHarness.shared().newDatabase("quota-report");
        prefix = RedisHarness.shared().keyPrefix(QuotaReportTest.class);
        backend = new LibraryBackend(Roster.builder()
                .jdbc(db.jdbcUrl(), db.user(), db.password())
                .poolSize(4)
                .redisUri(RedisHarness.shared().uri())
                .keyPrefix(prefix)
                // Loads read on every select: a test's clean-up of Redis is seen by the next select at once.
                .config(ServiceConfig.DEFAULTS.withSelection(
                        SelectionConfig.DEFAULTS.withLoadViewMaxAge(Duration.ZERO)))
                .clock(CLOCK)
                .build());
        BackendSource source = BackendSource.of(backend);
        RosterConfig.Server cfg = new RosterConfig.Server(
                "127.0.0.1", 0, ADMIN, "", true, 8, Duration.ofSeconds(10), 65536, Duration.ofSeconds(5));
        server = new HttpServer(cfg, source, new Metrics(source));
        base = "http://127.0.0.1:" + server.start();
        only = ok(send("/admin/groups", "{\"name\":\"q-only\",\"platform\":\"openai\"}"))
                .get("id")
                .asLong();
        both = ok(send("/admin/groups", "{\"name\":\"q-both\",\"platform\":\"openai\"}"))
                .get("id")
                .asLong();
        a = ok(send("/admin/accounts", """
                        {"name":"q-a","platform":"openai","type":"apikey","priority":1,"concurrency":5,
                         "quota_threshold_5h":95,
                         "groups":[{"id":"%d","priority":1},{"id":"%d","priority":1}]}
                        """.formatted(only, both))).get("id").asLong();
        b = ok(send("/admin/accounts", """
                        {"name":"q-b","platform":"openai","type":"apikey","priority":2,"concurrency":5,
                         "groups":[{"id":"%d","priority":2}]}
                        """.formatted(both))).get("id").asLong();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(release(select(only)).get("account").get("id").asLong()).isEqualTo(a);
            assertThat(ok(send("/v1/schedulable", null, "?group=" + both + "&platform=openai"))
                            .get("accounts"))
                    .hasSize(2);
        });
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

    @BeforeEach
    void clean() {
        // Each test starts with no quota state, no cooldown and no slot on either account.
        RedisHarness r = RedisHarness.shared();
        for (long id : List.of(a, b)) {
            for (Object k : (List<?>) r.command("KEYS", prefix + "{" + id + "}:*")) {
                r.command("DEL", String.valueOf(k));
            }
        }
    }

    static HttpResponse<String> send(String path, String body) throws Exception {
        return send(path, body, "");
    }

    static HttpResponse<String> send(String path, String body, String query) throws Exception {
        HttpRequest.Builder r =
                HttpRequest.newBuilder(URI.create(base + path + query)).timeout(Duration.ofSeconds(30));
        if (body != null) {
            r.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        }
        if (path.startsWith("/admin")) {
            r.header("Authorization", "Bearer " + ADMIN);
        }
        return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 299);
        return JSON.readTree(r.body());
    }

    static JsonNode select(long group) throws Exception {
        return ok(send("/v1/select", "{\"group\":\"" + group + "\",\"platform\":\"openai\"}"));
    }

    /** Releases an acquired answer's slot and returns the answer. */
    static JsonNode release(JsonNode acquired) throws Exception {
        assertThat(acquired.get("result").asText()).as(acquired.toString()).isEqualTo("acquired");
        JsonNode lease = acquired.get("lease");
        ok(send(
                "/v1/release",
                "{\"account_id\":\"" + lease.get("account_id").asText() + "\",\"token\":\""
                        + lease.get("token").asText() + "\"}"));
        return acquired;
    }

    static JsonNode report(String quotaFields) throws Exception {
        return ok(send("/v1/report", "{\"account_id\":\"" + a + "\",\"status\":200," + quotaFields + "}"));
    }

    /** A reset {@code seconds} from the application clock's now, in whole seconds as headers carry it. */
    static Instant resetIn(long seconds) {
        return CLOCK.instant().truncatedTo(ChronoUnit.SECONDS).plusSeconds(seconds);
    }

    /** Every Redis key of account {@code a} with its content: what "nothing written" compares. */
    static Map<String, String> keysOfA() {
        RedisHarness r = RedisHarness.shared();
        Map<String, String> out = new TreeMap<>();
        for (Object k : (List<?>) r.command("KEYS", prefix + "{" + a + "}:*")) {
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

    @Test
    void a_window_past_its_threshold_pauses_the_account_until_it_resets() throws Exception {
        Instant reset = resetIn(30);
        report("\"quota_5h_used_percent\":96,\"quota_5h_reset_at\":\"" + reset + "\"");

        JsonNode none = select(only);
        assertThat(none.get("result").asText()).as(none.toString()).isEqualTo("none");
        assertThat(none.get("reason").asText()).isEqualTo("quota_threshold");
        assertThat(Instant.parse(none.get("until").asText())).isEqualTo(reset);

        JsonNode other = release(select(both));
        assertThat(other.get("account").get("id").asLong()).isEqualTo(b);
        assertThat(other.get("skipped").toString())
                .contains("\"account_id\":\"" + a + "\"")
                .contains("quota_threshold");

        CLOCK.advance(Duration.ofSeconds(31));
        assertThat(release(select(only)).get("account").get("id").asLong()).isEqualTo(a);
        assertThat(release(select(both)).get("account").get("id").asLong()).isEqualTo(a);
    }

    @Test
    void below_the_threshold_the_account_serves_and_epoch_seconds_are_a_reset_time() throws Exception {
        report("\"quota_5h_used_percent\":94.5,\"quota_5h_reset_at\":\"" + resetIn(600) + "\"");
        assertThat(release(select(only)).get("account").get("id").asLong()).isEqualTo(a);

        // The 7-day window at 100 % (the default threshold), its reset as epoch seconds.
        Instant reset = resetIn(3600);
        report("\"quota_7d_used_percent\":100,\"quota_7d_reset_at\":" + reset.getEpochSecond());
        JsonNode none = select(only);
        assertThat(none.get("reason").asText()).as(none.toString()).isEqualTo("quota_threshold");
        assertThat(Instant.parse(none.get("until").asText())).isEqualTo(reset);
    }

    @Test
    void a_stale_report_pauses_nothing() throws Exception {
        report("\"quota_5h_used_percent\":99,\"quota_5h_reset_at\":\"" + resetIn(-10) + "\","
                + "\"quota_7d_used_percent\":100,\"quota_7d_reset_at\":"
                + resetIn(-1).getEpochSecond());
        assertThat(release(select(only)).get("account").get("id").asLong()).isEqualTo(a);
    }

    @Test
    void bad_quota_fields_are_400_naming_the_field_and_write_nothing() throws Exception {
        // A live report below the threshold first, so "nothing written" also covers an existing state.
        String live = resetIn(600).toString();
        report("\"quota_5h_used_percent\":50,\"quota_5h_reset_at\":\"" + live + "\"");
        Map<String, String> before = keysOfA();
        assertThat(before).containsKey(prefix + "{" + a + "}:quota");
        String far = resetIn(10L * 24 * 3600).toString();
        List<String[]> cases = List.of(
                new String[] {"\"quota_5h_used_percent\":96", "field quota_5h_reset_at"},
                new String[] {"\"quota_7d_reset_at\":\"" + live + "\"", "field quota_7d_used_percent"},
                new String[] {
                    "\"quota_5h_used_percent\":100.5,\"quota_5h_reset_at\":\"" + live + "\"",
                    "field quota_5h_used_percent"
                },
                new String[] {
                    "\"quota_7d_used_percent\":-1,\"quota_7d_reset_at\":\"" + live + "\"", "field quota_7d_used_percent"
                },
                new String[] {
                    "\"quota_5h_used_percent\":\"lots\",\"quota_5h_reset_at\":\"" + live + "\"",
                    "field quota_5h_used_percent"
                },
                new String[] {
                    "\"quota_5h_used_percent\":96,\"quota_5h_reset_at\":\"tomorrow\"", "field quota_5h_reset_at"
                },
                new String[] {
                    "\"quota_5h_used_percent\":96,\"quota_5h_reset_at\":\"" + far + "\"", "field quota_5h_reset_at"
                },
                // A good 5-hour window does not get written when the 7-day one is bad.
                new String[] {
                    "\"quota_5h_used_percent\":99,\"quota_5h_reset_at\":\"" + live + "\",\"quota_7d_used_percent\":101,"
                            + "\"quota_7d_reset_at\":\"" + live + "\"",
                    "field quota_7d_used_percent"
                });
        for (String[] c : cases) {
            HttpResponse<String> r = send("/v1/report", "{\"account_id\":\"" + a + "\",\"status\":200," + c[0] + "}");
            assertThat(r.statusCode()).as(c[0] + ": " + r.body()).isEqualTo(400);
            assertThat(JSON.readTree(r.body()).get("message").asText()).as(c[0]).contains(c[1]);
            assertThat(keysOfA()).as(c[0] + ": nothing written").isEqualTo(before);
        }
        assertThat(release(select(only)).get("account").get("id").asLong()).isEqualTo(a);
    }
}
