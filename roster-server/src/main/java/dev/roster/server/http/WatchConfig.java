package dev.roster.server.http;

import java.time.Duration;

/**
 * Limits of the watch stream {@code GET /v1/watch} (decisions W5-W7 in docs/decisions.md).
 *
 * @param maxClients streams open at once on this instance; one more is refused with 503 {@code overloaded}
 * @param maxBuckets buckets one stream may watch; more is a 400
 * @param heartbeat how often an idle stream gets a comment line (keeps proxies and the connection's idle
 *     timeout from closing it, and finds clients that went away)
 * @param queueEvents frames (events and heartbeats) waiting for one client; a client that lets more pile
 *     up is not reading and is dropped (it reconnects with {@code Last-Event-ID} and loses nothing)
 */
public record WatchConfig(int maxClients, int maxBuckets, Duration heartbeat, int queueEvents) {
    /** 1,024 clients, 64 buckets per stream, a heartbeat every 15 s, 64 queued frames per client. */
    public static final WatchConfig DEFAULTS = new WatchConfig(1024, 64, Duration.ofSeconds(15), 64);

    public WatchConfig {
        if (maxClients < 1 || maxBuckets < 1 || queueEvents < 1) {
            throw new IllegalArgumentException("watch limits must be >= 1: clients " + maxClients + ", buckets "
                    + maxBuckets + ", queue " + queueEvents);
        }
        if (heartbeat.isNegative() || heartbeat.isZero()) {
            throw new IllegalArgumentException("watch heartbeat must be positive, got " + heartbeat);
        }
    }
}
