package dev.roster.server.http;

import dev.roster.server.config.RosterConfig;
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
    /** The defaults of the {@code server.watch_*} keys: 1,024 clients, 64 buckets, 15 s, 64 frames. */
    public static final WatchConfig DEFAULTS = of(RosterConfig.Watch.DEFAULTS);

    /** The limits of the configuration's {@code server.watch_*} keys. */
    public static WatchConfig of(RosterConfig.Watch w) {
        return new WatchConfig(w.maxClients(), w.maxBuckets(), w.heartbeat(), w.queue());
    }

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
