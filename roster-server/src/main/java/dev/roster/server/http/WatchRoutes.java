package dev.roster.server.http;

import dev.roster.core.Bucket;
import dev.roster.server.app.Backend;
import dev.roster.server.http.Route.Access;
import dev.roster.server.http.Route.Param;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * {@code GET /v1/watch?bucket=g:p:m&bucket=...}: a Server-Sent Events stream of answer changes, for
 * gateways that keep their own copy of {@code /v1/schedulable} (README, decisions W1-W8). The request is
 * checked like any other (token, concurrency permit, bad input as 400); once it is accepted the stream
 * leaves the request's permit and thread behind and counts against {@link WatchConfig#maxClients()}
 * instead, so open streams never starve ordinary requests.
 */
final class WatchRoutes implements AutoCloseable {
    /** A group id of 19 digits, a platform of 32 characters, the longest mode and two colons. */
    private static final int MAX_BUCKET_TEXT = 19 + 1 + 32 + 1 + 6;

    private final Supplier<Backend> backend;
    private final WatchConfig config;
    private final Set<WatchStream> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger clients = new AtomicInteger();
    private final ScheduledExecutorService heartbeats;
    private final Metrics metrics;

    WatchRoutes(Supplier<Backend> backend, WatchConfig config, Metrics metrics) {
        this.backend = backend;
        this.config = config;
        this.metrics = metrics;
        metrics.watchStreams(clients::get);
        AtomicInteger n = new AtomicInteger();
        this.heartbeats = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform()
                .daemon()
                .name("roster-watch-heartbeat-" + n.incrementAndGet())
                .unstarted(r));
        long ms = config.heartbeat().toMillis();
        // Runs until the executor is shut down; nothing waits on the future.
        var unused = heartbeats.scheduleWithFixedDelay(
                () -> List.copyOf(open).forEach(WatchStream::heartbeat), ms, ms, TimeUnit.MILLISECONDS);
    }

    void register(List<Route> routes) {
        routes.add(new Route(
                "GET",
                "/v1/watch",
                Access.API,
                "Server-Sent Events: an event {bucket, generation, version, valid_until} whenever a watched"
                        + " bucket's answer changes (resume with Last-Event-ID)",
                List.of(new Param(
                        "bucket",
                        "string",
                        true,
                        "bucket g:p:m as in /v1/schedulable's answer; repeat for more (at most " + config.maxBuckets()
                                + ")")),
                null,
                this::watch));
    }

    /** Streams open now. */
    int clients() {
        return clients.get();
    }

    private Object watch(Call call) {
        List<String> raw = call.ctx().queryParams("bucket");
        if (raw.isEmpty()) {
            throw ApiError.badRequest("query parameter bucket is required (g:p:m, e.g. 0:openai:single)");
        }
        if (raw.size() > config.maxBuckets()) {
            throw ApiError.badRequest("query parameter bucket is given " + raw.size() + " times; at most "
                    + config.maxBuckets() + " buckets per watch (server.watch_max_buckets)");
        }
        Set<Bucket> buckets = new LinkedHashSet<>();
        for (String text : raw) {
            if (text.length() > MAX_BUCKET_TEXT) {
                // Checked first so that the messages below, which quote the bucket, stay short.
                throw ApiError.badRequest("query parameter bucket is too long: '" + Call.clip(text) + "'");
            }
            Bucket b;
            try {
                b = Bucket.parse(text);
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest("query parameter bucket: " + e.getMessage());
            }
            if (!buckets.add(b)) {
                throw ApiError.badRequest("query parameter bucket names " + b.text() + " twice");
            }
        }
        Backend b = backend.get();
        if (clients.incrementAndGet() > config.maxClients()) {
            clients.decrementAndGet();
            throw new ApiError(
                    503,
                    "overloaded",
                    "too many watch clients (server.watch_max_clients = " + config.maxClients() + ")");
        }
        String rid = call.ctx().res().getHeader("X-Request-Id");
        WatchStream stream = new WatchStream(
                call.ctx(),
                rid,
                new ArrayList<>(buckets),
                call.ctx().header("Last-Event-ID"),
                config.queueEvents(),
                this::ended);
        open.add(stream);
        try {
            stream.attach(b.watch(buckets, stream));
        } catch (RuntimeException e) {
            stream.end("refused", false);
            if (e instanceof IllegalArgumentException) {
                throw ApiError.badRequest("query parameter bucket: " + e.getMessage());
            }
            throw e;
        }
        return (HttpServer.Streaming) stream::start;
    }

    private void ended(WatchStream s, String reason) {
        if (open.remove(s)) {
            clients.decrementAndGet();
        }
        if (WatchStream.SLOW.equals(reason)) {
            metrics.watchDropped();
        }
    }

    /** Ends every stream (server shutdown) and stops the heartbeats. */
    @Override
    public void close() {
        heartbeats.shutdownNow();
        for (WatchStream s : List.copyOf(open)) {
            s.end("shutdown", false);
        }
    }
}
