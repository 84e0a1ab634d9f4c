package dev.roster.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariDataSource;
import dev.roster.Roster;
import dev.roster.core.config.NearCacheConfig;
import dev.roster.core.config.ProjectionConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.postgres.Databases;
import dev.roster.postgres.Migrator;
import dev.roster.server.app.BackendSource;
import dev.roster.server.app.LibraryBackend;
import dev.roster.server.config.RosterConfig;
import dev.roster.testkit.PostgresHarness;
import dev.roster.testkit.PostgresHarness.TestDatabase;
import dev.roster.testkit.RedisHarness;
import dev.roster.testkit.TestClock;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * {@code GET /v1/schedulable} from cached bytes, on a real Roster (PostgreSQL and Redis of the test
 * harness) behind the real HTTP server: the answer is encoded once and sent again until the bucket's
 * version changes or a time block ends; entity tags, {@code 304}, gzip, the compact views, the 400s of
 * bad shapes, and no secret in any answer.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CachedAnswersTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static final String SECRET = "s3cr3t-value-never-served";
    static final String URL = "/v1/schedulable?platform=openai";

    /** The system clock plus an offset the last test moves forward. */
    static final TestClock CLOCK = TestClock.following();

    static TestDatabase db;
    static Roster roster;
    static Metrics metrics;
    static HttpServer server;
    static String base;
    static long blocked;
    static Instant blockEnds;

    @BeforeAll
    static void start() {
        db = PostgresHarness.shared().newDatabase("answers");
        try (HikariDataSource ds = Databases.pool(db.jdbcUrl(), db.user(), db.password(), 2)) {
            new Migrator(ds).migrate();
        }
        sql("INSERT INTO accounts (name, platform, type, credentials) SELECT 'a' || g, 'openai', 'apikey',"
                + " '{\"api_key\": \"" + SECRET + "\"}'::jsonb FROM generate_series(1, 6) g");
        blocked = ids().getFirst();
        // Blocked for five minutes of application time; the last test moves the clock past it.
        blockEnds = CLOCK.instant().plus(Duration.ofMinutes(5)).truncatedTo(ChronoUnit.MILLIS);
        sql("UPDATE accounts SET rate_limit_reset_at = '" + blockEnds + "' WHERE id = " + blocked);
        ServiceConfig config = ServiceConfig.DEFAULTS
                .withProjection(
                        new ProjectionConfig(Duration.ofSeconds(3), Duration.ofMillis(500), Duration.ofSeconds(60)))
                .withNearCache(NearCacheConfig.DEFAULTS.withTiming(Duration.ofSeconds(5), Duration.ofMillis(200)));
        roster = Roster.builder()
                .jdbc(db.jdbcUrl(), db.user(), db.password())
                .poolSize(4)
                .redisUri(RedisHarness.shared().uri())
                .keyPrefix(RedisHarness.shared().keyPrefix(CachedAnswersTest.class))
                .config(config)
                .clock(CLOCK)
                .build();
        LibraryBackend backend = new LibraryBackend(roster);
        BackendSource source = BackendSource.of(backend);
        metrics = new Metrics(source);
        server = new HttpServer(
                new RosterConfig.Server(
                        "127.0.0.1", 0, "", "", false, 64, Duration.ofSeconds(5), 4096, Duration.ofSeconds(2)),
                source,
                metrics);
        base = "http://127.0.0.1:" + server.start();
        await().atMost(Duration.ofSeconds(60)).until(roster::ready);
        // Warm: the near cache holds the bucket, so every later answer is the reused one.
        await().until(() ->
                roster.list(null, "openai", false).source() == dev.roster.core.service.ListResult.Source.NEAR_CACHE);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.stop(Duration.ofSeconds(1));
        }
        if (roster != null) {
            roster.close();
        }
    }

    static void sql(String s) {
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            st.execute(s);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    static List<Long> ids() {
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT id FROM accounts ORDER BY priority, id")) {
            List<Long> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    static HttpResponse<byte[]> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    static String text(HttpResponse<byte[]> r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    static String etag(HttpResponse<byte[]> r) {
        return r.headers().firstValue("ETag").orElseThrow(() -> new AssertionError("no ETag: " + r.headers()));
    }

    static List<Long> listed(JsonNode answer) {
        List<Long> out = new ArrayList<>();
        answer.get("accounts").forEach(c -> out.add(c.get("id").asLong()));
        return out;
    }

    @Test
    @Order(1)
    void theSecondRequestIsSentFromTheBytesOfTheFirstAndIfNoneMatchGets304() throws Exception {
        HttpResponse<byte[]> first = get(URL);
        assertThat(first.statusCode()).as(text(first)).isEqualTo(200);
        assertThat(first.headers().firstValue("Vary")).contains("Accept-Encoding");
        assertThat(first.headers().firstValue("Cache-Control")).contains("no-cache");
        String tag = etag(first);
        JsonNode answer = JSON.readTree(first.body());
        assertThat(listed(answer)).doesNotContain(blocked).hasSize(5);
        assertThat(tag)
                .startsWith("\"" + answer.get("generation").asText() + "."
                        + answer.get("version").asText());
        long builds = metrics.answerBuilds();

        for (int i = 0; i < 20; i++) {
            HttpResponse<byte[]> again = get(URL);
            assertThat(again.body()).isEqualTo(first.body());
            assertThat(etag(again)).isEqualTo(tag);
        }
        HttpResponse<byte[]> notModified = get(URL, "If-None-Match", tag);
        assertThat(notModified.statusCode()).isEqualTo(304);
        assertThat(notModified.body()).isEmpty();
        assertThat(etag(notModified)).isEqualTo(tag);
        assertThat(get(URL, "If-None-Match", "W/" + tag + ", \"other\"").statusCode())
                .isEqualTo(304);
        assertThat(metrics.answerBuilds()).as("no answer encoded again").isEqualTo(builds);

        HttpResponse<byte[]> otherTag = get(URL, "If-None-Match", "\"not-this-one\"");
        assertThat(otherTag.statusCode()).isEqualTo(200);
        assertThat(otherTag.body()).isEqualTo(first.body());
    }

    @Test
    @Order(2)
    void gzipIsTheCompressedCopyOfTheSameAnswerWithItsOwnTag() throws Exception {
        HttpResponse<byte[]> plain = get(URL);
        HttpResponse<byte[]> gz = get(URL, "Accept-Encoding", "br;q=1, gzip;q=0.8");
        assertThat(gz.statusCode()).isEqualTo(200);
        assertThat(gz.headers().firstValue("Content-Encoding")).contains("gzip");
        assertThat(gz.headers().firstValue("Vary")).contains("Accept-Encoding");
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz.body()))) {
            assertThat(in.readAllBytes()).isEqualTo(plain.body());
        }
        assertThat(etag(gz)).isNotEqualTo(etag(plain)).endsWith("+gzip\"");
        assertThat(get(URL, "Accept-Encoding", "gzip", "If-None-Match", etag(gz))
                        .statusCode())
                .isEqualTo(304);
        HttpResponse<byte[]> refused = get(URL, "Accept-Encoding", "gzip;q=0");
        assertThat(refused.headers().firstValue("Content-Encoding")).isEmpty();
        assertThat(refused.body()).isEqualTo(plain.body());
    }

    @Test
    @Order(3)
    void compactViewsCarryOnlyWhatTheyNameAndLastUsedOnlyWhenAsked() throws Exception {
        JsonNode full = JSON.readTree(get(URL).body());
        assertThat(full.get("accounts").get(0).has("last_used_at")).isFalse();
        assertThat(full.get("accounts").get(0).has("supported_models")).isTrue();

        HttpResponse<byte[]> idsReply = get(URL + "&view=ids");
        JsonNode ids = JSON.readTree(idsReply.body());
        assertThat(ids.has("accounts")).isFalse();
        List<Long> inOrder = new ArrayList<>();
        ids.get("ids").forEach(n -> {
            assertThat(n.isTextual()).as("64-bit ids are strings").isTrue();
            inOrder.add(n.asLong());
        });
        assertThat(inOrder).isEqualTo(listed(full));
        assertThat(ids.get("version")).isEqualTo(full.get("version"));
        assertThat(etag(idsReply)).endsWith(".ids\"");

        JsonNode some =
                JSON.readTree(get(URL + "&fields=priority,concurrency,priority").body());
        some.get("accounts").forEach(c -> {
            List<String> names = new ArrayList<>();
            c.fieldNames().forEachRemaining(names::add);
            assertThat(names).containsExactly("id", "priority", "concurrency");
        });

        long used = listed(full).getFirst();
        HttpResponse<String> mark = HTTP.send(
                HttpRequest.newBuilder(URI.create(base + "/v1/accounts/" + used + "/used"))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(mark.statusCode()).as(mark.body()).isEqualTo(200);
        HttpResponse<byte[]> withLastUsed = get(URL + "&last_used=true");
        assertThat(withLastUsed.headers().firstValue("ETag"))
                .as("last-used is not covered by a version")
                .isEmpty();
        JsonNode lu = JSON.readTree(withLastUsed.body());
        assertThat(lu.get("accounts").get(0).get("id").asLong()).isEqualTo(used);
        assertThat(lu.get("accounts").get(0).get("last_used_at").isTextual()).isTrue();
        assertThat(lu.get("accounts").get(1).get("last_used_at").isNull()).isTrue();
    }

    @Test
    @Order(4)
    void badShapesAre400NamingTheParameterAndTheValue() throws Exception {
        assertBadRequest(URL + "&view=everything", "view", "everything");
        assertBadRequest(URL + "&fields=priority,password", "fields", "password");
        assertBadRequest(URL + "&fields=priority,,id", "fields", "empty name");
        assertBadRequest(URL + "&view=ids&fields=priority", "fields", "view=ids");
        assertBadRequest(URL + "&view=ids&last_used=true", "last_used", "view=ids");
        assertBadRequest(URL + "&last_used=yes", "last_used", "yes");
    }

    @Test
    @Order(4)
    void theOpenApiDocumentNamesTheShapesAndThe304() throws Exception {
        JsonNode op = JSON.readTree(get("/openapi.json").body()).at("/paths/~1v1~1schedulable/get");
        List<String> params = new ArrayList<>();
        op.get("parameters").forEach(p -> params.add(p.get("name").asText()));
        assertThat(params).contains("view", "fields", "last_used", "If-None-Match", "Accept-Encoding");
        assertThat(op.get("responses").has("304")).isTrue();
    }

    static void assertBadRequest(String path, String... named) throws Exception {
        HttpResponse<byte[]> r = get(path);
        assertThat(r.statusCode()).as(text(r)).isEqualTo(400);
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.get("error").asText()).isEqualTo("bad_request");
        assertThat(body.get("message").asText()).contains(named);
    }

    @Test
    @Order(5)
    void anAccountHasAContentTagThatChangesWithItsLastUse() throws Exception {
        long id = ids().getLast();
        String path = "/v1/accounts/" + id;
        HttpResponse<byte[]> first = get(path);
        assertThat(first.statusCode()).isEqualTo(200);
        String tag = etag(first);
        assertThat(JSON.readTree(first.body()).has("last_used_at")).isTrue();
        assertThat(get(path, "If-None-Match", tag).statusCode()).isEqualTo(304);
        roster.markUsed(id);
        HttpResponse<byte[]> after = get(path, "If-None-Match", tag);
        assertThat(after.statusCode()).isEqualTo(200);
        assertThat(etag(after)).isNotEqualTo(tag);
    }

    @Test
    @Order(6)
    void noAnswerCarriesASecret() throws Exception {
        List<String> paths = List.of(
                URL,
                URL + "&view=ids",
                URL + "&fields=name,type",
                URL + "&last_used=true",
                "/v1/accounts/" + ids().getFirst());
        for (String p : paths) {
            HttpResponse<byte[]> r = get(p);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(text(r)).as(p).doesNotContain(SECRET).doesNotContain("credentials");
            HttpResponse<byte[]> gz = get(p, "Accept-Encoding", "gzip");
            try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz.body()))) {
                assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8))
                        .as(p)
                        .doesNotContain(SECRET);
            }
        }
    }

    @Test
    @Order(7)
    void aVersionChangeAndTheEndOfATimeBlockEachGiveANewAnswer() throws Exception {
        HttpResponse<byte[]> before = get(URL);
        String tag = etag(before);
        long version = JSON.readTree(before.body()).get("version").asLong();
        long builds = metrics.answerBuilds();

        long last = ids().getLast();
        sql("UPDATE accounts SET priority = 1 WHERE id = " + last);
        await().until(() -> JSON.readTree(get(URL).body()).get("version").asLong() > version);
        HttpResponse<byte[]> changed = get(URL);
        assertThat(etag(changed)).isNotEqualTo(tag);
        assertThat(listed(JSON.readTree(changed.body())).getFirst()).isEqualTo(last);
        assertThat(get(URL, "If-None-Match", tag).statusCode())
                .as("the old tag is not current")
                .isEqualTo(200);
        assertThat(metrics.answerBuilds()).isGreaterThan(builds);

        String versionTag = etag(changed);
        long sameVersion = JSON.readTree(changed.body()).get("version").asLong();
        CLOCK.advance(Duration.between(CLOCK.instant(), blockEnds).plusSeconds(1));
        await().until(() -> listed(JSON.readTree(get(URL).body())).contains(blocked));
        HttpResponse<byte[]> unblocked = get(URL);
        JsonNode answer = JSON.readTree(unblocked.body());
        assertThat(answer.get("version").asLong())
                .as("no event: the same snapshot")
                .isEqualTo(sameVersion);
        assertThat(listed(answer)).hasSize(6);
        assertThat(etag(unblocked)).isNotEqualTo(versionTag);
        assertThat(get(URL, "If-None-Match", versionTag).statusCode()).isEqualTo(200);
        assertThat(get(URL, "If-None-Match", etag(unblocked)).statusCode()).isEqualTo(304);
    }
}
