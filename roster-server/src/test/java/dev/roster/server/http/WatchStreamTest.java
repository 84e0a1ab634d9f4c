package dev.roster.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /v1/watch} on a real Roster (PostgreSQL and Redis of the harness) through in-process servers:
 * a {@code java.net.http} client sees every change, resumes with {@code Last-Event-ID} without missing
 * one, is told of a time-window boundary on the application clock, is refused past the client cap, bad
 * input is a 400 naming it, and a client that does not read is dropped while another keeps receiving.
 */
class WatchStreamTest {
    // Far enough that real time does not reach it during the class, near enough that the jump to it stays
    // below the interval rebuild (300 s) and the fixture's lease TTL, so nothing else republishes the bucket.
    @SuppressWarnings("TimeInStaticInitializer") // one instant for the whole class, on purpose (above)
    static final Instant RESET = Instant.now().plus(Duration.ofMinutes(2)).truncatedTo(ChronoUnit.MILLIS);

    static WatchFixture fx;
    static HttpServer server;
    static String base;

    @BeforeAll
    static void start() {
        fx = new WatchFixture(
                WatchStreamTest.class,
                "watch",
                "INSERT INTO accounts (name, platform, type) VALUES ('c1', 'wchange', 'apikey'),"
                        + " ('c2', 'wchange', 'apikey'), ('r1', 'wresume', 'apikey'), ('o1', 'wother', 'apikey'),"
                        + " ('t1', 'wtime', 'apikey'), ('s1', 'wslow', 'apikey'), ('s2', 'wslow', 'apikey'),"
                        + " ('n1', 'wsoon', 'apikey'), ('n2', 'wsoon', 'apikey')",
                "INSERT INTO accounts (name, platform, type, rate_limit_reset_at) VALUES ('t2', 'wtime', 'apikey', '"
                        + RESET + "')",
                "INSERT INTO groups (name, platform) VALUES ('gslow', 'wslow')",
                "INSERT INTO account_groups (account_id, group_id) SELECT a.id, g.id FROM accounts a, groups g"
                        + " WHERE a.platform = 'wslow' AND g.name = 'gslow'");
        server = fx.server(new WatchConfig(8, 4, Duration.ofMillis(300), 8));
        base = "http://127.0.0.1:" + server.port();
    }

    @AfterAll
    static void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    static String watchUrl(String... buckets) {
        StringBuilder b = new StringBuilder(base).append("/v1/watch?");
        for (int i = 0; i < buckets.length; i++) {
            b.append(i == 0 ? "" : "&").append("bucket=").append(buckets[i]);
        }
        return b.toString();
    }

    static HttpResponse<String> get(String pathAndQuery, String token) throws Exception {
        HttpRequest.Builder b =
                HttpRequest.newBuilder(URI.create(base + pathAndQuery)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return SseClient.HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode schedulable(String platform) throws Exception {
        HttpResponse<String> r = get("/v1/schedulable?platform=" + platform, WatchFixture.TOKEN);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return SseClient.JSON.readTree(r.body());
    }

    static long version(JsonNode answer) {
        return Long.parseLong(answer.get("version").asText());
    }

    @Test
    void everyCommittedChangeIsAnnouncedWithTheVersionAGetThenAnswers() throws Exception {
        String bucket = "0:wchange:single";
        try (SseClient c = SseClient.open(watchUrl(bucket), WatchFixture.TOKEN, null)) {
            assertThat(c.status).as(c.body).isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).until(() -> c.of(bucket).size() == 1);
            assertThat(c.latest(bucket)).isEqualTo(version(schedulable("wchange")));
            List<Long> millis = new ArrayList<>();
            for (int i = 1; i <= 5; i++) {
                long before = c.latest(bucket);
                long t0 = System.nanoTime();
                fx.sql("UPDATE accounts SET priority = " + (50 + i) + " WHERE name = 'c1'");
                await().atMost(Duration.ofSeconds(3))
                        .pollInterval(Duration.ofMillis(2))
                        .until(() -> c.latest(bucket) > before);
                SseClient.Event e = c.of(bucket).get(c.of(bucket).size() - 1);
                millis.add(TimeUnit.NANOSECONDS.toMillis(e.receivedNanos() - t0));
                JsonNode answer = schedulable("wchange");
                // The event comes from what this instance serves, so a GET after it answers that version.
                assertThat(version(answer)).isEqualTo(e.version());
                assertThat(answer.get("accounts").findValuesAsText("priority")).contains(String.valueOf(50 + i));
                assertThat(e.id()).startsWith("w1.");
                assertThat(e.type()).isEqualTo("change");
            }
            assertThat(c.of(bucket)).as("one event per commit, none lost").hasSize(6);
            System.out.println("watch: commit -> event ms " + millis);
        }
    }

    @Test
    void aClientThatReconnectsWithItsLastEventIdIsToldExactlyWhatChangedMeanwhile() throws Exception {
        String changed = "0:wresume:single";
        String quiet = "0:wother:single";
        String lastId;
        long seen;
        try (SseClient c = SseClient.open(watchUrl(changed, quiet), WatchFixture.TOKEN, null)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> c.events.size() == 2);
            lastId = c.lastId;
            seen = c.latest(changed);
        }
        // A change while the client is away.
        fx.sql("UPDATE accounts SET priority = 7 WHERE name = 'r1'");
        await().atMost(Duration.ofSeconds(10)).until(() -> version(schedulable("wresume")) > seen);
        long now = version(schedulable("wresume"));

        try (SseClient c = SseClient.open(watchUrl(changed, quiet), WatchFixture.TOKEN, lastId)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> c.latest(changed) == now);
            int beats = c.heartbeats.get();
            await().atMost(Duration.ofSeconds(10)).until(() -> c.heartbeats.get() > beats);
            assertThat(c.events).as("only the bucket that changed").hasSize(1);
            lastId = c.lastId;
        }
        try (SseClient c = SseClient.open(watchUrl(changed, quiet), WatchFixture.TOKEN, lastId)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> c.heartbeats.get() >= 2);
            assertThat(c.events).as("nothing changed since that id").isEmpty();
        }
        try (SseClient c = SseClient.open(watchUrl(changed, quiet), WatchFixture.TOKEN, "w1.not-an-id")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> c.events.size() == 2);
        }
    }

    @Test
    void aBlockEndingOnTheApplicationClockIsAnnouncedWithoutANewVersion() throws Exception {
        String bucket = "0:wtime:single";
        try (SseClient c = SseClient.open(watchUrl(bucket), WatchFixture.TOKEN, null)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> c.of(bucket).size() == 1);
            SseClient.Event first = c.of(bucket).get(0);
            assertThat(Instant.parse(first.data().get("valid_until").asText())).isEqualTo(RESET);
            assertThat(schedulable("wtime").get("accounts").findValuesAsText("name"))
                    .containsExactly("t1");

            fx.clock.advance(Duration.between(fx.clock.instant(), RESET).plusSeconds(1));
            // A clock that jumps is looked at again by the watch tick at the latest.
            await().atMost(Duration.ofSeconds(15)).until(() -> c.of(bucket).size() == 2);
            SseClient.Event second = c.of(bucket).get(1);
            assertThat(second.version()).as("no version change").isEqualTo(first.version());
            assertThat(second.data().get("valid_until").isNull()).isTrue();
            assertThat(schedulable("wtime").get("accounts").findValuesAsText("name"))
                    .containsExactly("t1", "t2");
        }
    }

    @Test
    void aBlockEndingInRealTimeIsAnnouncedAtItsInstantNotAtTheNextPoll() throws Exception {
        String bucket = "0:wsoon:single";
        try (SseClient c = SseClient.open(watchUrl(bucket), WatchFixture.TOKEN, null)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> c.of(bucket).size() == 1);
            Instant reset = fx.clock.instant().plusSeconds(3).truncatedTo(ChronoUnit.MILLIS);
            fx.sql("UPDATE accounts SET rate_limit_reset_at = '" + reset + "' WHERE name = 'n2'");
            await().atMost(Duration.ofSeconds(3)).until(() -> c.of(bucket).size() == 2);
            assertThat(Instant.parse(
                            c.of(bucket).get(1).data().get("valid_until").asText()))
                    .isEqualTo(reset);
            await().atMost(Duration.ofSeconds(6)).until(() -> c.of(bucket).size() == 3);
            Instant told = fx.clock.instant();
            // The watch tick is 8 s: an event within a second of the instant came from the boundary timer.
            assertThat(Duration.between(reset, told)).isLessThan(Duration.ofSeconds(1));
            assertThat(c.of(bucket).get(2).version())
                    .isEqualTo(c.of(bucket).get(1).version());
            assertThat(schedulable("wsoon").get("accounts").findValuesAsText("name"))
                    .containsExactly("n1", "n2");
        }
    }

    @Test
    void pastTheClientCapAStreamIsRefusedWith503NamingTheCap() throws Exception {
        HttpServer capped = fx.server(new WatchConfig(2, 4, Duration.ofMillis(300), 8));
        String url = "http://127.0.0.1:" + capped.port() + "/v1/watch?bucket=0:wchange:single";
        SseClient a = SseClient.open(url, WatchFixture.TOKEN, null);
        try (SseClient b = SseClient.open(url, WatchFixture.TOKEN, null)) {
            assertThat(a.status).isEqualTo(200);
            assertThat(b.status).isEqualTo(200);
            SseClient refused = SseClient.open(url, WatchFixture.TOKEN, null);
            assertThat(refused.status).isEqualTo(503);
            JsonNode err = SseClient.JSON.readTree(refused.body);
            assertThat(err.get("error").asText()).isEqualTo("overloaded");
            assertThat(err.get("message").asText()).contains("server.watch_max_clients = 2");
            // Ordinary requests are not affected by open streams.
            assertThat(get("/v1/schedulable?platform=wchange", WatchFixture.TOKEN)
                            .statusCode())
                    .isEqualTo(200);

            a.close();
            // The server notices the closed stream at its next write (a heartbeat) and frees the place.
            await().atMost(Duration.ofSeconds(10)).until(() -> capped.watchClients() == 1);
            try (SseClient again = SseClient.open(url, WatchFixture.TOKEN, null)) {
                assertThat(again.status).isEqualTo(200);
            }
        }
    }

    @Test
    void badInputIs400NamingIt() throws Exception {
        assertBad("/v1/watch", "query parameter bucket is required");
        assertBad("/v1/watch?bucket=nope", "'nope'");
        assertBad("/v1/watch?bucket=0:Open:single", "platform");
        assertBad("/v1/watch?bucket=0:openai:sideways", "mode");
        assertBad(
                "/v1/watch?bucket=0:openai:mixed",
                "0:openai:mixed is never answered: platform openai without force" + " is answered as 0:openai:single");
        assertBad("/v1/watch?bucket=" + "9".repeat(200), "too long");
        assertBad("/v1/watch?bucket=1:openai:single&bucket=1:openai:single", "twice");
        assertBad(
                "/v1/watch?bucket=0:a:single&bucket=0:b:single&bucket=0:c:single&bucket=0:d:single&bucket=0:e:single",
                "at most 4 buckets");
        try (SseClient r = SseClient.open(base + "/v1/watch?bucket=0:wchange:single", null, null)) {
            assertThat(r.status).isEqualTo(401);
            assertThat(r.body).contains("\"error\":\"unauthorized\"");
        }
    }

    private static void assertBad(String pathAndQuery, String naming) throws Exception {
        // Opened as a stream: a request wrongly accepted must fail the test, not hang it.
        try (SseClient r = SseClient.open(base + pathAndQuery, WatchFixture.TOKEN, null)) {
            assertThat(r.status).as(pathAndQuery + " -> " + r.body).isEqualTo(400);
        }
        HttpResponse<String> r = get(pathAndQuery, WatchFixture.TOKEN);
        JsonNode err = SseClient.JSON.readTree(r.body());
        assertThat(err.get("error").asText()).isEqualTo("bad_request");
        assertThat(err.get("message").asText()).contains(naming);
    }

    @Test
    void aClientThatDoesNotReadIsDroppedWhileAnotherKeepsReceiving() throws Exception {
        long g = fx.id("SELECT id FROM groups WHERE name = 'gslow'");
        String[] buckets = {"0:wslow:single", "0:wslow:forced", g + ":wslow:single", g + ":wslow:forced"};
        HttpServer own = fx.server(new WatchConfig(8, 4, Duration.ofSeconds(30), 8));
        String url = "http://127.0.0.1:" + own.port() + "/v1/watch?bucket=" + String.join("&bucket=", buckets);
        try (SseClient fast = SseClient.open(url, WatchFixture.TOKEN, null);
                Socket slow = new Socket()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> fast.events.size() == 4);
            // A small receive window and no reads: the server's writes to it stop soon.
            slow.setReceiveBufferSize(4096);
            slow.connect(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), own.port()));
            OutputStream out = slow.getOutputStream();
            out.write(("GET " + URI.create(url).getRawPath() + "?"
                            + URI.create(url).getRawQuery() + " HTTP/1.1\r\n"
                            + "Host: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer "
                            + WatchFixture.TOKEN + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            await().atMost(Duration.ofSeconds(10)).until(() -> own.watchClients() == 2);

            AtomicBoolean writing = new AtomicBoolean(true);
            Thread writer = Thread.ofVirtual().start(() -> {
                int p = 100;
                while (writing.get()) {
                    fx.sql("UPDATE accounts SET priority = " + p++ + " WHERE platform = 'wslow'");
                }
            });
            try {
                // Well before Jetty's idle timeout (30 s), which would end a blocked write too: the drop is the
                // bounded queue's doing. A feed held up by the slow client would not get there.
                await().atMost(Duration.ofSeconds(20)).until(() -> own.watchClients() == 1);
            } finally {
                writing.set(false);
                writer.join();
            }
            // The reader was never held up: it is told the latest answer of every bucket.
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> fast.latest(buckets[0]) == version(schedulable("wslow")));
            long latest = fast.latest(buckets[0]);
            assertThat(fast.ended).isFalse();
            String metrics = SseClient.HTTP
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + own.port() + "/metrics"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
            assertThat(metrics).contains("roster_watch_dropped_total 1.0").contains("roster_watch_clients 1.0");
            fx.sql("UPDATE accounts SET priority = 1 WHERE platform = 'wslow'");
            await().atMost(Duration.ofSeconds(10)).until(() -> fast.latest(buckets[0]) > latest);
        }
    }
}
