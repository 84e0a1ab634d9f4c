package dev.roster.server.config;

import dev.roster.core.config.ServiceConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The validated configuration of a Roster process: connections, HTTP server, near cache, embedded
 * default and the snapshot service's own sections. Produced by {@link ConfigLoader}; {@code
 * toString()} of every part masks secrets.
 *
 * @param database PostgreSQL
 * @param redis Redis
 * @param server the HTTP server
 * @param embedded the embedded default
 * @param service {@code run_mode}, {@code gateway.scheduling}, {@code replay}, {@code projection},
 *     {@code scope}, {@code near_cache}
 * @param watch the watch stream's limits ({@code server.watch_*})
 */
public record RosterConfig(
        Database database, Redis redis, Server server, Embedded embedded, ServiceConfig service, Watch watch) {

    public RosterConfig {
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(redis, "redis");
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(embedded, "embedded");
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(watch, "watch");
    }

    /** A configuration with the watch stream's default limits. */
    public RosterConfig(Database database, Redis redis, Server server, Embedded embedded, ServiceConfig service) {
        this(database, redis, server, embedded, service, Watch.DEFAULTS);
    }

    /**
     * Limits of {@code GET /v1/watch} (decisions W5-W7).
     *
     * @param maxClients {@code server.watch_max_clients}: streams open at once on this instance
     * @param maxBuckets {@code server.watch_max_buckets}: buckets one stream may watch
     * @param heartbeat {@code server.watch_heartbeat}: comment line on an idle stream
     * @param queue {@code server.watch_queue}: frames a client may leave unread beyond one per bucket
     */
    public record Watch(int maxClients, int maxBuckets, Duration heartbeat, int queue) {
        /** The defaults of {@code roster.example.yaml}. */
        public static final Watch DEFAULTS = new Watch(1024, 64, Duration.ofSeconds(15), 64);
    }

    /**
     * PostgreSQL. {@code url == null} means "not configured": the embedded server is used.
     *
     * @param url JDBC URL, or {@code null}
     * @param user user name
     * @param password password (never printed)
     * @param poolSize maximum connections
     * @param migrate whether to apply migrations at start
     */
    public record Database(@Nullable String url, String user, String password, int poolSize, boolean migrate) {
        /** The URL once resolved (configured, or the embedded server's); resolving comes before any use. */
        public String resolvedUrl() {
            return Objects.requireNonNull(url, "database.url is resolved before use");
        }

        /** Whether no database was configured (the embedded one is used). */
        public boolean embedded() {
            return url == null;
        }

        /** A copy pointing at {@code jdbcUrl} with {@code user} and no password (the embedded server). */
        public Database at(String jdbcUrl, String u) {
            return new Database(jdbcUrl, u, "", poolSize, migrate);
        }

        @Override
        public String toString() {
            return "Database[url=" + Secrets.maskUrl(url) + ", user=" + user + ", password=" + Secrets.mask(password)
                    + ", poolSize=" + poolSize + ", migrate=" + migrate + "]";
        }
    }

    /**
     * Redis. {@code url == null} means "not configured": the embedded server is used.
     *
     * @param url Redis URI, or {@code null}
     * @param keyPrefix key prefix
     */
    public record Redis(@Nullable String url, String keyPrefix) {
        /** The URI once resolved (configured, or the embedded server's); resolving comes before any use. */
        public String resolvedUrl() {
            return Objects.requireNonNull(url, "redis.url is resolved before use");
        }

        /** Whether no Redis was configured (the embedded one is used). */
        public boolean embedded() {
            return url == null;
        }

        /** A copy pointing at {@code uri}. */
        public Redis at(String uri) {
            return new Redis(uri, keyPrefix);
        }

        @Override
        public String toString() {
            return "Redis[url=" + Secrets.maskUrl(url) + ", keyPrefix=" + keyPrefix + "]";
        }
    }

    /**
     * The HTTP server.
     *
     * @param host bind address
     * @param port port, 0 for a free one
     * @param adminToken bearer token of {@code /admin/*}, or {@code ""}
     * @param apiToken bearer token of {@code /v1/*}, or {@code ""} (open)
     * @param adminEnabled whether the admin API is served
     * @param maxConcurrentRequests requests handled at once
     * @param requestTimeout longest a request may take
     * @param maxBodyBytes largest request body
     * @param shutdownTimeout grace for in-flight requests on SIGTERM
     */
    public record Server(
            String host,
            int port,
            String adminToken,
            String apiToken,
            boolean adminEnabled,
            int maxConcurrentRequests,
            Duration requestTimeout,
            long maxBodyBytes,
            Duration shutdownTimeout) {

        /** A copy with another port (tests and the demo pick free ports). */
        public Server withPort(int p) {
            return new Server(
                    host,
                    p,
                    adminToken,
                    apiToken,
                    adminEnabled,
                    maxConcurrentRequests,
                    requestTimeout,
                    maxBodyBytes,
                    shutdownTimeout);
        }

        @Override
        public String toString() {
            return "Server[host=" + host + ", port=" + port + ", adminToken=" + Secrets.mask(adminToken)
                    + ", apiToken=" + Secrets.mask(apiToken) + ", adminEnabled=" + adminEnabled
                    + ", maxConcurrentRequests=" + maxConcurrentRequests + ", requestTimeout=" + requestTimeout
                    + ", maxBodyBytes=" + maxBodyBytes + ", shutdownTimeout=" + shutdownTimeout + "]";
        }
    }

    /**
     * The embedded default.
     *
     * @param enabled whether stores that are not configured are started embedded
     * @param dataDir their data folder
     */
    public record Embedded(boolean enabled, Path dataDir) {}
}
