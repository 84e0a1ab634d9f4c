package dev.roster.redis;

import dev.roster.core.projection.ProjectionUnavailableException;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One long-lived Lettuce client and connection to Redis standalone, Sentinel or Cluster, shared by any
 * number of {@link RedisProjection}s (each with its own key prefix). Commands use a byte-array codec;
 * the connection auto-reconnects; while disconnected commands are rejected at once; the request queue
 * is bounded; every command has the configured timeout. Thread-safe.
 *
 * <p>{@link ClientResources} (event loops) may be passed in and shared across connectors; then the
 * caller shuts them down. Otherwise the connector creates and owns them.
 */
public final class RedisConnector implements AutoCloseable {
    private final RedisConnectionOptions options;
    private final RedisEndpoint endpoint;
    private final AbstractRedisClient client;
    private final StatefulConnection<byte[], byte[]> connection;
    private final RedisClusterCommands<byte[], byte[]> sync;
    private final RedisClusterAsyncCommands<byte[], byte[]> async;
    private final boolean cluster;

    // Lettuce deprecates every adaptive-refresh switch alike (enableAllAdaptiveRefreshTriggers and
    // enableAdaptiveRefreshTrigger); replacing it is a behaviour change of its own, not a warning fix.
    @SuppressWarnings("deprecation")
    private RedisConnector(RedisConnectionOptions options, @Nullable ClientResources resources) {
        this.options = options;
        this.endpoint = RedisEndpoint.parse(options.uri());
        SocketOptions socket = SocketOptions.builder()
                .connectTimeout(options.commandTimeout())
                .keepAlive(true)
                .build();
        TimeoutOptions timeouts = TimeoutOptions.enabled(options.commandTimeout());
        this.cluster = endpoint.kind() == RedisEndpoint.Kind.CLUSTER;
        try {
            if (cluster) {
                List<RedisURI> seeds =
                        endpoint.nodes().stream().map(this::nodeUri).toList();
                RedisClusterClient c = resources == null
                        ? RedisClusterClient.create(seeds)
                        : RedisClusterClient.create(resources, seeds);
                c.setOptions(ClusterClientOptions.builder()
                        .socketOptions(socket)
                        .timeoutOptions(timeouts)
                        .requestQueueSize(options.requestQueueSize())
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                        .autoReconnect(true)
                        .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                                .enableAllAdaptiveRefreshTriggers()
                                .build())
                        .build());
                this.client = c;
                StatefulRedisClusterConnection<byte[], byte[]> conn;
                try {
                    conn = connectCluster(c);
                } catch (RuntimeException e) {
                    shutdown(c, resources == null);
                    throw e;
                }
                this.connection = conn;
                this.sync = conn.sync();
                this.async = conn.async();
            } else {
                RedisURI uri = standaloneOrSentinelUri();
                RedisClient c = resources == null ? RedisClient.create() : RedisClient.create(resources);
                c.setOptions(ClientOptions.builder()
                        .socketOptions(socket)
                        .timeoutOptions(timeouts)
                        .requestQueueSize(options.requestQueueSize())
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                        .autoReconnect(true)
                        .build());
                this.client = c;
                try {
                    StatefulRedisConnection<byte[], byte[]> conn = c.connect(ByteArrayCodec.INSTANCE, uri);
                    this.connection = conn;
                    this.sync = conn.sync();
                    this.async = conn.async();
                } catch (RuntimeException e) {
                    shutdown(c, resources == null);
                    throw e;
                }
            }
        } catch (RedisException e) {
            throw new ProjectionUnavailableException("cannot connect to " + endpoint + ": " + e.getMessage(), e);
        }
        this.ownsResources = resources == null;
        this.ownsClient = true;
    }

    private final boolean ownsResources;
    private final boolean ownsClient;
    private final Object bulkLock = new Object();
    private volatile @Nullable StatefulConnection<byte[], byte[]> bulkConnection;
    private volatile @Nullable RedisClusterAsyncCommands<byte[], byte[]> bulkAsync;

    private RedisConnector(RedisConnectionOptions options, AbstractRedisClient existing) {
        this.options = options;
        this.endpoint = RedisEndpoint.parse(options.uri());
        this.client = existing;
        this.ownsResources = false;
        this.ownsClient = false;
        try {
            if (existing instanceof RedisClusterClient c) {
                this.cluster = true;
                StatefulRedisClusterConnection<byte[], byte[]> conn = c.connect(ByteArrayCodec.INSTANCE);
                this.connection = conn;
                this.sync = conn.sync();
                this.async = conn.async();
            } else if (existing instanceof RedisClient c) {
                if (endpoint.kind() == RedisEndpoint.Kind.CLUSTER) {
                    throw new IllegalArgumentException("a redis-cluster:// URI needs a RedisClusterClient");
                }
                this.cluster = false;
                StatefulRedisConnection<byte[], byte[]> conn =
                        c.connect(ByteArrayCodec.INSTANCE, standaloneOrSentinelUri());
                this.connection = conn;
                this.sync = conn.sync();
                this.async = conn.async();
            } else {
                throw new IllegalArgumentException(
                        "unsupported Lettuce client " + existing.getClass().getName());
            }
        } catch (RedisException e) {
            throw new ProjectionUnavailableException("cannot connect to " + endpoint + ": " + e.getMessage(), e);
        }
    }

    /**
     * A connector over a Lettuce client the caller created and shuts down (after closing this). Only
     * the connections this connector opens are closed with it. The client's own options apply; set a
     * command timeout and {@code DisconnectedBehavior.REJECT_COMMANDS} on it, or an outage blocks
     * callers instead of failing fast to the near cache and the database fallback.
     *
     * @param client a {@link RedisClient} (standalone or Sentinel URI) or a {@link RedisClusterClient}
     *     (its own seed URIs are used)
     * @param options the URI (for standalone and Sentinel: where to connect; always: how to describe
     *     the endpoint in messages) and the command timeout reported in messages
     * @throws ProjectionUnavailableException when Redis cannot be reached
     */
    public static RedisConnector over(AbstractRedisClient client, RedisConnectionOptions options) {
        return new RedisConnector(Objects.requireNonNull(options, "options"), Objects.requireNonNull(client, "client"));
    }

    /**
     * Connects with client resources of its own.
     *
     * @throws ProjectionUnavailableException when Redis cannot be reached
     * @throws IllegalArgumentException when the URI is malformed
     */
    public static RedisConnector connect(RedisConnectionOptions options) {
        return new RedisConnector(Objects.requireNonNull(options, "options"), (ClientResources) null);
    }

    /** Connects using shared client resources, which the caller shuts down after closing this. */
    public static RedisConnector connect(RedisConnectionOptions options, ClientResources resources) {
        return new RedisConnector(Objects.requireNonNull(options, "options"), Objects.requireNonNull(resources));
    }

    /** Whether this is a Cluster connection (cross-slot batches are split by slot). */
    public boolean isCluster() {
        return cluster;
    }

    /** The options. */
    public RedisConnectionOptions options() {
        return options;
    }

    /** The parsed endpoint. */
    public RedisEndpoint endpoint() {
        return endpoint;
    }

    /** Synchronous commands (the connection's timeout applies). */
    public RedisClusterCommands<byte[], byte[]> sync() {
        return sync;
    }

    /** Asynchronous commands, for pipelined batches. */
    public RedisClusterAsyncCommands<byte[], byte[]> async() {
        return async;
    }

    /**
     * Asynchronous commands on a second connection of the same client, for large pipelines (a full
     * rebuild's chunks, a storm's batches). Commands on one connection are written and answered in
     * order, so a small command issued behind megabytes of pipelined writes waits for all of them: the
     * hot path's reads and the replayer's small publishes would wait out every chunk of a rebuild.
     * Opened on first use; closed with this connector.
     *
     * @throws ProjectionUnavailableException when Redis cannot be reached
     */
    public RedisClusterAsyncCommands<byte[], byte[]> bulkAsync() {
        RedisClusterAsyncCommands<byte[], byte[]> a = bulkAsync;
        if (a != null) {
            return a;
        }
        synchronized (bulkLock) {
            a = bulkAsync;
            if (a == null) {
                try {
                    if (client instanceof RedisClusterClient c) {
                        StatefulRedisClusterConnection<byte[], byte[]> conn = connectCluster(c);
                        bulkConnection = conn;
                        a = conn.async();
                    } else {
                        StatefulRedisConnection<byte[], byte[]> conn =
                                ((RedisClient) client).connect(ByteArrayCodec.INSTANCE, standaloneOrSentinelUri());
                        bulkConnection = conn;
                        a = conn.async();
                    }
                } catch (RedisException e) {
                    throw new ProjectionUnavailableException(
                            "cannot open a second connection to " + endpoint + ": " + e.getMessage(), e);
                }
                bulkAsync = a;
            }
            return a;
        }
    }

    private static StatefulRedisClusterConnection<byte[], byte[]> connectCluster(RedisClusterClient c) {
        StatefulRedisClusterConnection<byte[], byte[]> conn = c.connect(ByteArrayCodec.INSTANCE);
        // Node connections open lazily, and a command routed to a node whose connection is still
        // opening would be rejected (REJECT_COMMANDS): open them all now.
        for (RedisClusterNode node : conn.getPartitions()) {
            if (node.is(RedisClusterNode.NodeFlag.UPSTREAM)) {
                conn.getConnection(node.getUri().getHost(), node.getUri().getPort());
            }
        }
        return conn;
    }

    /**
     * Opens a new Pub/Sub connection (string codec), which the caller closes. On Cluster it subscribes
     * through one node; Redis propagates PUBLISH to every node.
     */
    public StatefulRedisPubSubConnection<String, String> connectPubSub() {
        try {
            if (client instanceof RedisClusterClient c) {
                return c.connectPubSub(StringCodec.UTF8);
            }
            return ((RedisClient) client).connectPubSub(StringCodec.UTF8, standaloneOrSentinelUri());
        } catch (RedisException e) {
            throw new ProjectionUnavailableException("cannot open a pub/sub connection to " + endpoint, e);
        }
    }

    @Override
    public void close() {
        synchronized (bulkLock) {
            StatefulConnection<byte[], byte[]> bulk = bulkConnection;
            if (bulk != null) {
                bulk.close();
            }
        }
        connection.close();
        if (ownsClient) {
            shutdown(client, ownsResources);
        }
    }

    private static void shutdown(AbstractRedisClient c, boolean ownsResources) {
        // Resources shared with other connectors must outlive this client: only shut down our own.
        c.shutdown(0, ownsResources ? 2 : 1, TimeUnit.SECONDS);
    }

    private RedisURI standaloneOrSentinelUri() {
        RedisURI.Builder b;
        if (endpoint.kind() == RedisEndpoint.Kind.SENTINEL) {
            RedisEndpoint.HostPort first = endpoint.nodes().get(0);
            b = RedisURI.Builder.sentinel(first.host(), first.port(), endpoint.sentinelMaster());
            for (RedisEndpoint.HostPort hp :
                    endpoint.nodes().subList(1, endpoint.nodes().size())) {
                b.withSentinel(hp.host(), hp.port());
            }
        } else {
            RedisEndpoint.HostPort hp = endpoint.nodes().get(0);
            b = RedisURI.Builder.redis(hp.host(), hp.port()).withSsl(endpoint.tls());
        }
        auth(b);
        return b.withDatabase(endpoint.database())
                .withTimeout(options.commandTimeout())
                .build();
    }

    private RedisURI nodeUri(RedisEndpoint.HostPort hp) {
        RedisURI.Builder b = RedisURI.Builder.redis(hp.host(), hp.port()).withSsl(endpoint.tls());
        auth(b);
        return b.withTimeout(options.commandTimeout()).build();
    }

    private void auth(RedisURI.Builder b) {
        if (endpoint.password() != null) {
            if (endpoint.username() != null) {
                b.withAuthentication(endpoint.username(), endpoint.password());
            } else {
                b.withPassword(endpoint.password());
            }
        }
    }

    @Override
    public String toString() {
        return "RedisConnector[" + endpoint + "]";
    }

    /** The command timeout. */
    public Duration commandTimeout() {
        return options.commandTimeout();
    }
}
