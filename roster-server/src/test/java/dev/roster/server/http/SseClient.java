package dev.roster.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** A Server-Sent Events client on {@code java.net.http}, as a gateway on the JVM would write one. */
final class SseClient implements AutoCloseable {
    static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    static final ObjectMapper JSON = new ObjectMapper();

    /** One {@code change} event, with when it arrived. */
    record Event(String id, String type, JsonNode data, long receivedNanos) {
        String bucket() {
            return data.get("bucket").asText();
        }

        long version() {
            return Long.parseLong(data.get("version").asText());
        }
    }

    final int status;
    final String body;
    final List<Event> events = new CopyOnWriteArrayList<>();
    final AtomicInteger heartbeats = new AtomicInteger();
    volatile String lastId;
    volatile boolean ended;
    private final InputStream in;

    private SseClient(int status, String body, InputStream in) {
        this.status = status;
        this.body = body;
        this.in = in;
    }

    /** Opens {@code url}; a non-200 answer is kept in {@link #status} and {@link #body}. */
    static SseClient open(String url, String token, String lastEventId) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Accept", "text/event-stream");
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (lastEventId != null) {
            b.header("Last-Event-ID", lastEventId);
        }
        HttpResponse<InputStream> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
            try (InputStream i = r.body()) {
                return new SseClient(r.statusCode(), new String(i.readAllBytes(), StandardCharsets.UTF_8), null);
            }
        }
        SseClient c = new SseClient(200, "", r.body());
        Thread.ofVirtual().name("test-sse-reader").start(c::read);
        return c;
    }

    /** Events of {@code bucket} so far. */
    List<Event> of(String bucket) {
        return events.stream().filter(e -> e.bucket().equals(bucket)).toList();
    }

    /** The latest version announced for {@code bucket}, or -1. */
    long latest(String bucket) {
        List<Event> e = of(bucket);
        return e.isEmpty() ? -1 : e.get(e.size() - 1).version();
    }

    private void read() {
        String id = null;
        String type = "message";
        StringBuilder data = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isEmpty()) {
                    if (!data.isEmpty()) {
                        if (id != null) {
                            lastId = id;
                        }
                        events.add(new Event(id, type, JSON.readTree(data.toString()), System.nanoTime()));
                    }
                    id = null;
                    type = "message";
                    data.setLength(0);
                } else if (line.startsWith(":")) {
                    if (line.contains("heartbeat")) {
                        heartbeats.incrementAndGet();
                    }
                } else if (line.startsWith("id: ")) {
                    id = line.substring(4);
                } else if (line.startsWith("event: ")) {
                    type = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    data.append(line.substring(6));
                }
            }
        } catch (IOException e) {
            // Closed by the test or by the server.
        } finally {
            ended = true;
        }
    }

    @Override
    public void close() {
        if (in != null) {
            try {
                in.close();
            } catch (IOException ignored) {
                // Already closed.
            }
        }
    }
}
