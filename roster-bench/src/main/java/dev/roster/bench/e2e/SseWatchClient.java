package dev.roster.bench.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A Server-Sent Events client of {@code GET /v1/watch} for one bucket, as a gateway on the JVM would
 * write it: the JDK's HTTP client (HTTP/1.1) streams the response, a platform thread of its own reads its
 * lines and stamps each {@code change} event with {@link System#nanoTime()} when the blank line that ends
 * it is read (the moment the event is complete, as the SSE format dispatches it).
 */
final class SseWatchClient implements AutoCloseable {
    /** One {@code change} event of the watched bucket, with when it arrived. */
    record Event(long arrivedNanos, String generation, long version) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String bucket;
    private final InputStream body;
    private final Thread reader;
    private final List<Event> events = new CopyOnWriteArrayList<>();
    private volatile boolean closing;
    private volatile Throwable failure;

    private SseWatchClient(String bucket, InputStream body) {
        this.bucket = bucket;
        this.body = body;
        this.reader = Thread.ofPlatform().name("bench-sse-reader").daemon().unstarted(this::read);
    }

    /**
     * Opens the stream of {@code bucket} (text {@code g:p:m}) on the server at {@code port} of loopback.
     *
     * @throws IllegalStateException when the server does not answer 200
     */
    static SseWatchClient open(HttpClient http, int port, String bucket) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/watch?bucket="
                        + URLEncoder.encode(bucket, StandardCharsets.UTF_8)))
                .header("Accept", "text/event-stream")
                .build();
        HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
            String text;
            try (InputStream in = r.body()) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            throw new IllegalStateException("GET /v1/watch answered " + r.statusCode() + ": " + text);
        }
        SseWatchClient c = new SseWatchClient(bucket, r.body());
        c.reader.start();
        return c;
    }

    /** An HTTP/1.1 client for {@link #open} (a stream is a long response, not an HTTP/2 upgrade). */
    static HttpClient httpClient() {
        return HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    /** The events received so far, in arrival order. */
    List<Event> events() {
        return List.copyOf(events);
    }

    /** Why the stream ended before {@link #close()}, or {@code null} while it runs. */
    Throwable failure() {
        return failure;
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            String type = "message";
            StringBuilder data = new StringBuilder();
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.isEmpty()) {
                    long now = System.nanoTime();
                    if ("change".equals(type) && !data.isEmpty()) {
                        JsonNode d = JSON.readTree(data.toString());
                        if (bucket.equals(d.path("bucket").asText())) {
                            events.add(new Event(
                                    now,
                                    d.path("generation").asText(),
                                    Long.parseLong(d.path("version").asText())));
                        }
                    }
                    type = "message";
                    data.setLength(0);
                } else if (line.startsWith("event:")) {
                    type = line.substring("event:".length()).strip();
                } else if (line.startsWith("data:")) {
                    data.append(line.substring("data:".length()).strip());
                }
                // Comments (heartbeats), id: and retry: lines carry nothing this client measures.
            }
            if (!closing) {
                failure = new IOException("the server ended the stream");
            }
        } catch (IOException | RuntimeException e) {
            if (!closing) {
                failure = e;
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        closing = true;
        try {
            body.close();
        } catch (IOException ignored) {
            // closing: the reader ends either way
        }
        reader.join(Duration.ofSeconds(5));
    }
}
