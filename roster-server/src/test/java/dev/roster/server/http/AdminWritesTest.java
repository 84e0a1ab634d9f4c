package dev.roster.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.roster.Roster;
import dev.roster.core.config.ServiceConfig;
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
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The admin writes over HTTP against a real PostgreSQL (and the Redis the library needs): one
 * transaction per request, PUT replaces the whole resource and refuses a body that omits a field, PATCH
 * is a JSON merge patch, credentials merge by key and are never returned.
 */
class AdminWritesTest {
    static final String ADMIN = "admin-token-0123456789abcdef";
    static final String SECRET = "sk-admin-writes-secret-4711";
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static TestDatabase db;
    static LibraryBackend backend;
    static HttpServer server;
    static String base;
    static long group;
    static long otherGroup;
    static long deletedGroup;

    @BeforeAll
    static void start() throws Exception {
        db = PostgresHarness.shared().newDatabase("admin-writes");
        backend = new LibraryBackend(Roster.builder()
                .jdbc(db.jdbcUrl(), db.user(), db.password())
                .poolSize(4)
                .redisUri(RedisHarness.shared().uri())
                .keyPrefix(RedisHarness.shared().keyPrefix(AdminWritesTest.class))
                .config(ServiceConfig.DEFAULTS)
                .build());
        BackendSource source = BackendSource.of(backend);
        RosterConfig.Server cfg = new RosterConfig.Server(
                "127.0.0.1", 0, ADMIN, "", true, 8, Duration.ofSeconds(10), 65536, Duration.ofSeconds(5));
        server = new HttpServer(cfg, source, new Metrics(source));
        base = "http://127.0.0.1:" + server.start();
        group = ok(send("POST", "/admin/groups", "{\"name\":\"g\",\"platform\":\"anthropic\"}"))
                .get("id")
                .asLong();
        otherGroup = ok(send("POST", "/admin/groups", "{\"name\":\"g2\",\"platform\":\"anthropic\"}"))
                .get("id")
                .asLong();
        deletedGroup = ok(send("POST", "/admin/groups", "{\"name\":\"gone\",\"platform\":\"anthropic\"}"))
                .get("id")
                .asLong();
        ok(send("DELETE", "/admin/groups/" + deletedGroup, null));
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

    // ---- selection limits: rpm_limit, weight, quota thresholds -----------------------------------

    @Test
    void the_selection_limits_are_created_patched_replaced_and_shown() throws Exception {
        JsonNode created = ok(send(
                "POST",
                "/admin/accounts",
                "{\"name\":\"limits\",\"platform\":\"anthropic\",\"type\":\"apikey\",\"rpm_limit\":60,"
                        + "\"quota_threshold_5h\":80}"));
        long id = created.get("id").asLong();
        assertThat(created.get("rpm_limit").asInt()).isEqualTo(60);
        assertThat(created.get("weight").asInt()).as("default weight").isEqualTo(1);
        assertThat(created.get("quota_threshold_5h").asInt()).isEqualTo(80);
        assertThat(created.get("quota_threshold_7d").isNull())
                .as("no 7-day threshold: the default")
                .isTrue();

        JsonNode patched = ok(
                send("PATCH", "/admin/accounts/" + id, "{\"weight\":7,\"rpm_limit\":null,\"quota_threshold_7d\":90}"));
        assertThat(patched.get("weight").asInt()).isEqualTo(7);
        assertThat(patched.get("rpm_limit").isNull())
                .as("null removes the RPM limit")
                .isTrue();
        assertThat(patched.get("quota_threshold_5h").asInt())
                .as("not named: kept")
                .isEqualTo(80);
        assertThat(patched.get("quota_threshold_7d").asInt()).isEqualTo(90);
        assertThat(columns(id)).isEqualTo("null|7|80|90");

        ObjectNode body = fullBody(patched).put("rpm_limit", 0).put("quota_threshold_5h", 100);
        JsonNode replaced = ok(send("PUT", "/admin/accounts/" + id, body.toString()));
        assertThat(replaced.get("rpm_limit").isNull())
                .as("0 is unlimited, shown as null")
                .isTrue();
        assertThat(replaced.get("quota_threshold_5h").asInt()).isEqualTo(100);
        assertThat(columns(id)).as("unlimited is stored as NULL").isEqualTo("null|7|100|90");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "{\"weight\":0}|weight must be between 1 and 1000",
                "{\"weight\":1001}|weight must be between 1 and 1000",
                "{\"weight\":null}|field weight cannot be removed",
                "{\"weight\":\"heavy\"}|field weight must be an integer",
                "{\"rpm_limit\":-1}|rpm_limit must be between 0",
                "{\"rpm_limit\":1000001}|rpm_limit must be between 0",
                "{\"rpm_limit\":1.5}|field rpm_limit must be an integer",
                "{\"quota_threshold_5h\":0}|quota_threshold_5h must be a used-% between 1 and 100",
                "{\"quota_threshold_5h\":101}|quota_threshold_5h must be a used-% between 1 and 100",
                "{\"quota_threshold_7d\":-5}|quota_threshold_7d must be a used-% between 1 and 100",
                "{\"quota_threshold_7d\":99999999999}|field quota_threshold_7d must be a 32-bit integer"
            })
    void a_bad_selection_limit_is_a_400_naming_the_field_and_changes_nothing(String caseText) throws Exception {
        String[] c = caseText.split("\\|", -1);
        long id = account("bad-limit");
        JsonNode before = ok(send("GET", "/admin/accounts/" + id, null));
        long events = outboxRows();
        HttpResponse<String> r = send("PATCH", "/admin/accounts/" + id, c[0]);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(json(r).get("message").asText()).contains(c[1]);
        HttpResponse<String> put = send(
                "PUT",
                "/admin/accounts/" + id,
                JSON.readerForUpdating(fullBody(before)).readValue(c[0]).toString());
        assertThat(put.statusCode()).as("PUT " + put.body()).isEqualTo(400);
        assertThat(json(put).get("message").asText()).as("PUT").contains(c[1].replace("cannot be removed", ""));
        if (!c[0].contains("null")) {
            // A creation may omit the weight (or send null for it): it then takes the default.
            HttpResponse<String> post = send(
                    "POST",
                    "/admin/accounts",
                    JSON.readerForUpdating(
                                    JSON.readTree("{\"name\":\"x\",\"platform\":\"anthropic\",\"type\":\"apikey\"}"))
                            .readValue(c[0])
                            .toString());
            assertThat(post.statusCode()).as("POST " + post.body()).isEqualTo(400);
            assertThat(json(post).get("message").asText()).as("POST").contains(c[1]);
        }
        assertThat(ok(send("GET", "/admin/accounts/" + id, null)))
                .as("the account after refused writes")
                .isEqualTo(before);
        assertThat(outboxRows()).as("no outbox event from a refused write").isEqualTo(events);
    }

    @Test
    void a_put_without_the_selection_limits_names_them() throws Exception {
        long id = account("put-no-limits");
        JsonNode before = ok(send("GET", "/admin/accounts/" + id, null));
        ObjectNode body = fullBody(before);
        body.remove(List.of("rpm_limit", "weight", "quota_threshold_5h", "quota_threshold_7d"));
        HttpResponse<String> r = send("PUT", "/admin/accounts/" + id, body.toString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(json(r).get("message").asText())
                .contains("rpm_limit")
                .contains("weight")
                .contains("quota_threshold_5h")
                .contains("quota_threshold_7d");
    }

    static String columns(long id) throws SQLException {
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT coalesce(rpm_limit::text, 'null') || '|' || weight || '|'"
                        + " || coalesce(quota_threshold_5h::text, 'null') || '|' || coalesce(quota_threshold_7d::text,"
                        + " 'null') FROM accounts WHERE id = " + id)) {
            rs.next();
            return rs.getString(1);
        }
    }

    // ---- PUT: one transaction, every field required ----------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "[{\"priority\":1}]|needs an id",
                "[{\"id\":999999}]|do not exist or are deleted",
                "[{\"id\":DELETED}]|do not exist or are deleted",
                "[{\"id\":GROUP},{\"id\":GROUP}]|listed twice",
                "[{\"id\":GROUP,\"priority\":-1}]|must not be negative"
            })
    void a_put_refused_for_a_bad_link_changes_nothing(String caseText) throws Exception {
        String[] c = caseText.split("\\|", -1);
        long id = account("put-bad-link");
        JsonNode before = ok(send("GET", "/admin/accounts/" + id, null));
        long events = outboxRows();
        ObjectNode body = fullBody(before).put("name", "renamed-by-a-refused-put");
        body.set(
                "groups",
                JSON.readTree(
                        c[0].replace("DELETED", String.valueOf(deletedGroup)).replace("GROUP", String.valueOf(group))));
        HttpResponse<String> r = send("PUT", "/admin/accounts/" + id, body.toString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(json(r).get("message").asText()).contains(c[1]);
        assertThat(ok(send("GET", "/admin/accounts/" + id, null)))
                .as("the account after a refused PUT")
                .isEqualTo(before);
        assertThat(outboxRows()).as("no outbox event from a refused PUT").isEqualTo(events);
    }

    @Test
    void a_put_that_omits_fields_is_refused_naming_them_and_changes_nothing() throws Exception {
        long id = account("put-omits");
        // Written as the gateway or another client would: an errored, switched-off, rate-limited account.
        sql("UPDATE accounts SET status = 'error', schedulable = false, rate_limit_reset_at = '2099-01-01Z',"
                + " overload_until = '2099-01-02Z', extra = '{\"mixed_scheduling\": true}' WHERE id = " + id);
        JsonNode before = ok(send("GET", "/admin/accounts/" + id, null));
        // The rename a client used to send: before, it re-enabled the account.
        HttpResponse<String> r = send(
                "PUT",
                "/admin/accounts/" + id,
                "{\"name\":\"renamed\",\"platform\":\"anthropic\",\"type\":\"apikey\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(json(r).get("message").asText())
                .contains("missing field(s)")
                .contains("status")
                .contains("schedulable")
                .contains("extra")
                .contains("rate_limit_reset_at")
                .contains("groups");
        assertThat(ok(send("GET", "/admin/accounts/" + id, null))).isEqualTo(before);
    }

    @Test
    void a_full_put_replaces_every_field_in_one_transaction() throws Exception {
        long id = account("put-full");
        JsonNode before = ok(send("GET", "/admin/accounts/" + id, null));
        ObjectNode body = fullBody(before)
                .put("name", "put-full-2")
                .put("priority", 7)
                .put("status", "error")
                .put("overload_until", "2099-01-01T00:00:00Z");
        body.set("groups", JSON.readTree("[{\"id\":" + otherGroup + ",\"priority\":4}]"));
        JsonNode after = ok(send("PUT", "/admin/accounts/" + id, body.toString()));
        assertThat(after.get("name").asText()).isEqualTo("put-full-2");
        assertThat(after.get("priority").asInt()).isEqualTo(7);
        assertThat(after.get("status").asText()).isEqualTo("error");
        assertThat(after.get("overload_until").asText()).isEqualTo("2099-01-01T00:00:00Z");
        assertThat(after.get("groups").toString()).isEqualTo("[{\"id\":\"" + otherGroup + "\",\"priority\":4}]");
        assertThat(after.get("supported_models").toString())
                .as("credentials not named: kept")
                .isEqualTo("[\"claude-x\"]");
    }

    // ---- PATCH: merge patch ----------------------------------------------------------------------

    @Test
    void a_rename_by_patch_keeps_status_blocks_extra_and_the_mixed_flag() throws Exception {
        long id = ok(send("POST", "/admin/accounts", """
                        {"name":"ag","platform":"antigravity","type":"oauth","status":"error","schedulable":false,
                         "rate_limit_reset_at":"2099-01-01T00:00:00Z","overload_until":"2099-02-01T00:00:00Z",
                         "extra":{"mixed_scheduling":true,"note":"keep me"},
                         "groups":[{"id":%d,"priority":3}]}
                        """.formatted(group)))
                .get("id")
                .asLong();
        JsonNode before = ok(send("GET", "/admin/accounts/" + id, null));
        JsonNode after = ok(send("PATCH", "/admin/accounts/" + id, "{\"name\":\"ag-renamed\"}"));
        assertThat(after.get("name").asText()).isEqualTo("ag-renamed");
        for (String f : List.of(
                "status",
                "schedulable",
                "priority",
                "concurrency",
                "rate_limit_reset_at",
                "overload_until",
                "extra",
                "groups",
                "supported_models",
                "credentials_set")) {
            assertThat(after.get(f)).as(f).isEqualTo(before.get(f));
        }
        assertThat(after.get("extra").get("mixed_scheduling").asBoolean()).isTrue();
    }

    @Test
    void patch_merges_objects_removes_with_null_and_replaces_arrays() throws Exception {
        long id = ok(send("POST", "/admin/accounts", """
                        {"name":"m","platform":"anthropic","type":"apikey",
                         "rate_limit_reset_at":"2099-01-01T00:00:00Z","expires_at":"2099-03-01T00:00:00Z",
                         "extra":{"a":1,"b":{"c":2,"d":3}},
                         "groups":[{"id":%d,"priority":1},{"id":%d,"priority":2}]}
                        """.formatted(group, otherGroup)))
                .get("id")
                .asLong();
        JsonNode after = ok(send(
                "PATCH",
                "/admin/accounts/" + id,
                "{\"rate_limit_reset_at\":null,\"extra\":{\"a\":null,\"b\":{\"d\":4},\"e\":true},"
                        + "\"groups\":[{\"id\":" + otherGroup + ",\"priority\":9}]}"));
        assertThat(after.get("rate_limit_reset_at").isNull()).as("null clears").isTrue();
        assertThat(after.get("expires_at").asText()).as("not named: kept").isEqualTo("2099-03-01T00:00:00Z");
        assertThat(after.get("extra")).isEqualTo(JSON.readTree("{\"b\":{\"c\":2,\"d\":4},\"e\":true}"));
        assertThat(after.get("groups").toString())
                .as("an array is replaced whole")
                .isEqualTo("[{\"id\":\"" + otherGroup + "\",\"priority\":9}]");
        JsonNode cleared = ok(send("PATCH", "/admin/accounts/" + id, "{\"extra\":null,\"groups\":null}"));
        assertThat(cleared.get("extra")).isEqualTo(JSON.readTree("{}"));
        assertThat(cleared.get("groups")).isEmpty();
    }

    @Test
    void a_null_link_is_a_400_not_a_500() throws Exception {
        long id = account("null-link");
        for (String path : List.of("/admin/accounts/" + id + "/groups", "/admin/accounts/" + id)) {
            HttpResponse<String> r = send(path.endsWith("groups") ? "PUT" : "PATCH", path, "{\"groups\":[null]}");
            assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(400);
            assertThat(json(r).get("message").asText()).contains("every group link must be an object");
        }
    }

    @Test
    void a_link_to_a_group_deleted_later_does_not_block_other_changes() throws Exception {
        long g = ok(send("POST", "/admin/groups", "{\"name\":\"doomed\",\"platform\":\"anthropic\"}"))
                .get("id")
                .asLong();
        long id =
                ok(send("POST", "/admin/accounts", """
                        {"name":"linked","platform":"anthropic","type":"apikey","groups":[{"id":%d,"priority":2}]}
                        """.formatted(g))).get("id").asLong();
        ok(send("DELETE", "/admin/groups/" + g, null)); // soft delete keeps the link
        JsonNode renamed = ok(send("PATCH", "/admin/accounts/" + id, "{\"name\":\"linked-2\"}"));
        assertThat(renamed.get("groups").toString()).isEqualTo("[{\"id\":\"" + g + "\",\"priority\":2}]");
        JsonNode put = ok(send(
                "PUT",
                "/admin/accounts/" + id,
                fullBody(renamed).put("priority", 9).toString()));
        assertThat(put.get("priority").asInt()).isEqualTo(9);
        // A new link to a deleted group is still refused.
        HttpResponse<String> r = send("PATCH", "/admin/accounts/" + id, "{\"groups\":[{\"id\":" + deletedGroup + "}]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "{\"name\":null}|field name cannot be removed",
                "{\"priority\":-3}|priority must not be negative",
                "{\"priority\":1.5}|field priority must be an integer",
                "{\"colour\":\"red\"}|unknown field 'colour'",
                "{\"name\":\"x\",\"groups\":[{\"id\":999999}]}|do not exist or are deleted",
                "{\"name\":\"x\",\"credentials\":{\"api_key\":\"SECRET\",\"model_mapping\":[1]}}|model_mapping must be an object",
                "{\"expires_at\":\"tomorrow\"}|field expires_at must be an RFC 3339 instant"
            })
    void a_refused_patch_changes_nothing_and_names_the_field(String caseText) throws Exception {
        String[] c = caseText.split("\\|", -1);
        long id = account("patch-refused");
        JsonNode before = ok(send("GET", "/admin/accounts/" + id, null));
        long events = outboxRows();
        HttpResponse<String> r = send("PATCH", "/admin/accounts/" + id, c[0].replace("SECRET", SECRET));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(json(r).get("message").asText()).contains(c[1]);
        assertThat(r.body()).doesNotContain(SECRET);
        assertThat(ok(send("GET", "/admin/accounts/" + id, null))).isEqualTo(before);
        assertThat(outboxRows()).isEqualTo(events);
    }

    // ---- credentials -----------------------------------------------------------------------------

    @Test
    void rotating_a_secret_keeps_the_model_mapping_and_the_mapping_is_edited_without_secrets() throws Exception {
        long id = account("rotate");
        JsonNode rotated =
                ok(send("PATCH", "/admin/accounts/" + id, "{\"credentials\":{\"api_key\":\"" + SECRET + "-2\"}}"));
        assertThat(rotated.get("supported_models").toString()).isEqualTo("[\"claude-x\"]");
        assertThat(credentials(id)).contains(SECRET + "-2").contains("claude-x").doesNotContain(SECRET + "\"");

        // The mapping alone, merged by key, no secret resent.
        JsonNode added = ok(send(
                "PATCH", "/admin/accounts/" + id, "{\"credentials\":{\"model_mapping\":{\"claude-y\":\"claude-y\"}}}"));
        assertThat(added.get("supported_models").toString()).isEqualTo("[\"claude-x\",\"claude-y\"]");
        assertThat(credentials(id)).contains(SECRET + "-2");

        // The mapping replaced whole through its own resource.
        JsonNode replaced = ok(send(
                "PUT", "/admin/accounts/" + id + "/model-mapping", "{\"model_mapping\":{\"claude-z\":\"claude-z\"}}"));
        assertThat(replaced.get("supported_models").toString()).isEqualTo("[\"claude-z\"]");
        assertThat(credentials(id)).contains(SECRET + "-2").doesNotContain("claude-x");

        // A full PUT that names credentials merges them too.
        ObjectNode body = fullBody(replaced);
        body.set("credentials", JSON.readTree("{\"refresh_token\":\"rt-" + SECRET + "\"}"));
        JsonNode put = ok(send("PUT", "/admin/accounts/" + id, body.toString()));
        assertThat(put.get("supported_models").toString()).isEqualTo("[\"claude-z\"]");
        assertThat(credentials(id)).contains(SECRET + "-2").contains("rt-" + SECRET);

        // null deletes one key.
        ok(send("PATCH", "/admin/accounts/" + id, "{\"credentials\":{\"refresh_token\":null}}"));
        assertThat(credentials(id)).doesNotContain("rt-" + SECRET).contains(SECRET + "-2");

        for (String path : List.of("/admin/accounts/" + id, "/admin/accounts?limit=500")) {
            assertThat(send("GET", path, null).body()).doesNotContain(SECRET);
        }
        assertThat(rotated.toString() + added + replaced + put).doesNotContain(SECRET);
    }

    @Test
    void a_put_that_names_only_a_new_secret_keeps_the_model_mapping() throws Exception {
        long id = account("put-rotate");
        ObjectNode body = fullBody(ok(send("GET", "/admin/accounts/" + id, null)));
        body.set("credentials", JSON.readTree("{\"api_key\":\"" + SECRET + "-put\"}"));
        JsonNode put = ok(send("PUT", "/admin/accounts/" + id, body.toString()));
        assertThat(put.get("supported_models").toString()).isEqualTo("[\"claude-x\"]");
        assertThat(credentials(id)).contains(SECRET + "-put").contains("model_mapping");
        assertThat(put.toString()).doesNotContain(SECRET);
    }

    // ---- groups ----------------------------------------------------------------------------------

    @Test
    void a_group_put_without_status_is_refused_and_a_patch_keeps_it() throws Exception {
        long g = ok(send("POST", "/admin/groups", "{\"name\":\"gp\",\"platform\":\"openai\",\"status\":\"disabled\"}"))
                .get("id")
                .asLong();
        HttpResponse<String> r = send("PUT", "/admin/groups/" + g, "{\"name\":\"gp2\",\"platform\":\"openai\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(json(r).get("message").asText()).contains("missing field(s) status");
        assertThat(ok(send("GET", "/admin/groups/" + g, null)).get("name").asText())
                .isEqualTo("gp");
        JsonNode renamed = ok(send("PATCH", "/admin/groups/" + g, "{\"name\":\"gp2\"}"));
        assertThat(renamed.get("name").asText()).isEqualTo("gp2");
        assertThat(renamed.get("status").asText()).as("omitted status kept").isEqualTo("disabled");
        JsonNode put = ok(
                send("PUT", "/admin/groups/" + g, "{\"name\":\"gp3\",\"platform\":\"openai\",\"status\":\"active\"}"));
        assertThat(put.get("status").asText()).isEqualTo("active");
        HttpResponse<String> nul = send("PATCH", "/admin/groups/" + g, "{\"status\":null}");
        assertThat(nul.statusCode()).isEqualTo(400);
        assertThat(json(nul).get("message").asText()).contains("field status cannot be removed");
    }

    @Test
    void the_openapi_document_describes_put_patch_and_the_model_mapping() throws Exception {
        JsonNode paths = ok(send("GET", "/openapi.json", null)).get("paths");
        JsonNode account = paths.get("/admin/accounts/{id}");
        assertThat(account.get("put").get("summary").asText()).contains("every field but credentials is required");
        assertThat(account.get("patch").get("requestBody").get("content").has("application/merge-patch+json"))
                .isTrue();
        assertThat(account.get("patch").get("summary").asText()).contains("RFC 7396");
        assertThat(paths.get("/admin/groups/{id}").has("patch")).isTrue();
        assertThat(paths.get("/admin/accounts/{id}/model-mapping").has("put")).isTrue();
    }

    // ---- helpers ---------------------------------------------------------------------------------

    /** An active account with a secret, a model mapping and one link. */
    static long account(String name) throws Exception {
        return ok(send("POST", "/admin/accounts", """
                        {"name":"%s","platform":"anthropic","type":"apikey",
                         "credentials":{"api_key":"%s","model_mapping":{"claude-x":"claude-x"}},
                         "groups":[{"id":%d,"priority":2}]}
                        """.formatted(name, SECRET, group)))
                .get("id")
                .asLong();
    }

    /** Every writable field of the account as GET shows it (a complete PUT body without credentials). */
    static ObjectNode fullBody(JsonNode a) {
        ObjectNode b = JSON.createObjectNode();
        for (String f : List.of(
                "name",
                "platform",
                "type",
                "status",
                "schedulable",
                "priority",
                "concurrency",
                "extra",
                "expires_at",
                "auto_pause_on_expired",
                "rate_limit_reset_at",
                "overload_until",
                "temp_unschedulable_until",
                "groups",
                "rpm_limit",
                "weight",
                "quota_threshold_5h",
                "quota_threshold_7d")) {
            b.set(f, a.get(f));
        }
        return b;
    }

    static String credentials(long id) throws SQLException {
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT credentials::text FROM accounts WHERE id = " + id)) {
            rs.next();
            return rs.getString(1);
        }
    }

    static void sql(String statement) throws SQLException {
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            st.execute(statement);
        }
    }

    static long outboxRows() throws SQLException {
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM scheduler_outbox")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static HttpResponse<String> send(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + ADMIN);
        b.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", method.equals("PATCH") ? "application/merge-patch+json" : "application/json");
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 299);
        return json(r);
    }
}
