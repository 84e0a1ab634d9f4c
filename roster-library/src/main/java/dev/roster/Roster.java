package dev.roster;

import com.zaxxer.hikari.HikariDataSource;
import dev.roster.core.AccountCard;
import dev.roster.core.audit.AuditReport;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.projection.Projection;
import dev.roster.core.service.CacheNotReadyException;
import dev.roster.core.service.FallbackLimitedException;
import dev.roster.core.service.FallbackTimeoutException;
import dev.roster.core.service.ListResult;
import dev.roster.core.service.SnapshotService;
import dev.roster.core.service.StoreUnavailableException;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.Databases;
import dev.roster.postgres.DeadLetterRepository;
import dev.roster.postgres.Migrator;
import dev.roster.postgres.OutboxListener;
import dev.roster.postgres.PostgresDeadLetterSink;
import dev.roster.postgres.PostgresSchedulingSource;
import dev.roster.redis.RedisConnectionOptions;
import dev.roster.redis.RedisConnector;
import dev.roster.redis.RedisProjection;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.resource.ClientResources;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Roster embedded in a JVM gateway: the schedulable accounts of a request's bucket in the group's
 * order, served from an in-process near cache kept current from PostgreSQL through Redis.
 *
 * <p>Build one per process with {@link #builder()}; {@link Builder#build()} returns it
 * <em>started</em>: schema migrated (unless turned off), the replay loop, the near cache, the LISTEN
 * wake-up and the last-used write-behind running. {@link #ready()} turns true once the shared
 * projection has been verified or fully rebuilt; before that {@link #list} still answers, from the
 * guarded database fallback.
 *
 * <pre>{@code
 * try (Roster roster = Roster.builder()
 *         .jdbc("jdbc:postgresql://db/gateway", "roster", password)
 *         .redisUri("redis://cache:6379/0")
 *         .build()) {
 *     ListResult r = roster.list(groupId, "anthropic", false);
 *     ...
 *     roster.markUsed(chosen.id(), Instant.now());
 * }
 * }</pre>
 *
 * <p><b>Threads.</b> A started Roster runs: {@code roster-replay} (outbox replay), {@code
 * roster-rebuild} (full rebuilds), {@code roster-bucket-*} (bucket rebuilds), {@code
 * roster-fallback-*} (database fallback queries), {@code roster-lease-*} (lease renewal), {@code
 * roster-nearcache-refresh} and {@code roster-nearcache-check-*} (near cache), {@code
 * roster-last-used-*} (write-behind), {@code roster-outbox-listen} (LISTEN), plus Lettuce's event
 * loops when it created the Redis client and Hikari's housekeeper when it created the pool. {@link
 * #close()} stops every one of them; a {@code DataSource}, Redis connector, Lettuce client or {@code
 * ClientResources} passed in by the caller is left open.
 *
 * <p><b>Errors</b> on the hot path are the service's: {@link CacheNotReadyException}, {@link
 * FallbackLimitedException}, {@link FallbackTimeoutException}, {@link StoreUnavailableException} (all
 * {@link dev.roster.core.service.SchedulerException}); messages never contain credentials.
 *
 * <p>Thread-safe.
 */
public final class Roster implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Roster.class.getName());

    private final SnapshotService service;
    private final RedisProjection projection;
    private final PostgresSchedulingSource source;
    private final DataSource dataSource;
    private final DeadLetterRepository deadLetters;
    private final ServiceConfig config;
    private final InstantSource clock;
    private final List<AutoCloseable> owned;
    private final OutboxListener listener;
    private final RosterAdmin admin;
    private final Object lifecycle = new Object();
    private boolean closed;

    private Roster(
            SnapshotService service,
            RedisProjection projection,
            PostgresSchedulingSource source,
            DataSource dataSource,
            DeadLetterRepository deadLetters,
            ServiceConfig config,
            InstantSource clock,
            OutboxListener listener,
            List<AutoCloseable> owned) {
        this.service = service;
        this.projection = projection;
        this.source = source;
        this.dataSource = dataSource;
        this.deadLetters = deadLetters;
        this.config = config;
        this.clock = clock;
        this.listener = listener;
        this.owned = owned;
        this.admin = new RosterAdmin(service, projection, source, deadLetters);
    }

    /** A new builder. */
    public static Builder builder() {
        return new Builder();
    }

    // ---- hot path -------------------------------------------------------------------------------

    /**
     * The schedulable accounts of the request's bucket at this instant, in the bucket query's order
     * (design §1), with whether the list is mixed and the (generation, version) it came from. A warm
     * bucket is answered from memory.
     *
     * @param groupId the API key's group, or {@code null} for none
     * @param platform the request's platform (an unknown but well-formed one is an empty list)
     * @param forcePlatform whether the route pins the platform
     * @throws IllegalArgumentException when the platform is malformed
     * @throws dev.roster.core.service.SchedulerException when no snapshot is available and the guarded
     *     database fallback refuses or fails
     */
    public ListResult list(Long groupId, String platform, boolean forcePlatform) {
        return service.list(groupId, platform, forcePlatform);
    }

    /**
     * {@link #list(Long, String, boolean)} with the caller's remaining time bounding a database
     * fallback ({@code null}: only {@code db_fallback_timeout_seconds} bounds it).
     */
    public ListResult list(Long groupId, String platform, boolean forcePlatform, Duration budget) {
        return service.list(groupId, platform, forcePlatform, budget);
    }

    /** The card of an account, whatever its schedulability; empty for unknown ids and ids &le; 0. */
    public Optional<AccountCard> getAccount(long accountId) {
        return service.getAccount(accountId);
    }

    /** {@link #getAccount(long)} with the caller's remaining time bounding a database fallback. */
    public Optional<AccountCard> getAccount(long accountId, Duration budget) {
        return service.getAccount(accountId, budget);
    }

    /**
     * Records that an account was used at {@code at}: this instance's view and Redis move forward at
     * once (so every instance's least-recently-used order sees it), PostgreSQL follows within {@code
     * near_cache.last_used_flush_interval} in one batched {@code UPDATE} (which emits no outbox event).
     * Never moves a value backwards; a Redis error is logged, not thrown.
     */
    public void markUsed(long accountId, Instant at) {
        service.markUsed(accountId, at);
    }

    /** {@link #markUsed(long, Instant)} at the application clock's instant. */
    public void markUsed(long accountId) {
        service.markUsed(accountId, clock.instant());
    }

    /** The last-used times of these accounts that have one (Redis merged with this instance's view). */
    public Map<Long, Instant> lastUsed(Collection<Long> accountIds) {
        return service.lastUsed(accountIds);
    }

    /** Audits Redis against PostgreSQL (design §1): drift, if any, per bucket. */
    public AuditReport audit() {
        return service.audit();
    }

    /** Whether the projection has been verified current or fully rebuilt since start. */
    public boolean ready() {
        return service.ready();
    }

    /** The application clock's instant (the one the time filter uses). */
    public Instant now() {
        return clock.instant();
    }

    // ---- for an admin server ----------------------------------------------------------------------

    /** The operator's view: outbox, dead letters, buckets, rebuilds, near-cache figures. */
    public RosterAdmin admin() {
        return admin;
    }

    /** The configuration in effect. */
    public ServiceConfig config() {
        return config;
    }

    /**
     * The PostgreSQL data source (the one passed in, or the pool this Roster created), for an admin
     * server's CRUD through the repositories in {@code dev.roster.postgres}. Do not close it.
     */
    public DataSource dataSource() {
        return dataSource;
    }

    /** The snapshot service underneath (metrics, step control); owned by this Roster. */
    public SnapshotService service() {
        return service;
    }

    /** The Redis projection underneath; owned by this Roster. */
    public Projection projection() {
        return projection;
    }

    /** Whether the LISTEN wake-up connection is established (false when turned off). */
    public boolean listening() {
        return listener != null && listener.connected();
    }

    // ---- lifecycle ----------------------------------------------------------------------------------

    /**
     * Stops every thread this Roster started and closes what it created, in dependency order: the
     * LISTEN listener, the service (replay, rebuilds, near cache, lease renewal; queued last-used
     * values are written; the replayer lease is released), the Redis projection (and the Lettuce
     * client and resources it created), then the pool it created. Idempotent.
     */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (listener != null) {
            listener.close();
        }
        service.close();
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        "closing " + c.getClass().getSimpleName() + " failed: " + e.getMessage());
            }
        }
    }

    /**
     * Builds a started {@link Roster}. Required: a database ({@link #dataSource} or {@link #jdbc}) and a
     * Redis ({@link #redisUri}, {@link #redisOptions}, {@link #redisConnector} or {@link #redisClient}).
     * Defaults: {@link ServiceConfig#DEFAULTS}, key prefix {@code "roster:"}, the system clock,
     * migration on, LISTEN wake-up on, a pool of 10 connections when built from a JDBC URL.
     */
    public static final class Builder {
        private DataSource dataSource;
        private String jdbcUrl;
        private String jdbcUser;
        private String jdbcPassword;
        private int poolSize = 10;
        private RedisConnectionOptions redisOptions;
        private RedisConnector redisConnector;
        private AbstractRedisClient redisClient;
        private ClientResources clientResources;
        private String keyPrefix = "roster:";
        private ServiceConfig config = ServiceConfig.DEFAULTS;
        private InstantSource clock = InstantSource.system();
        private boolean migrate = true;
        private boolean listen = true;

        private Builder() {}

        /** A data source the caller owns (and closes after the Roster). */
        public Builder dataSource(DataSource v) {
            this.dataSource = Objects.requireNonNull(v, "dataSource");
            this.jdbcUrl = null;
            return this;
        }

        /**
         * A JDBC URL and credentials; the Roster creates a Hikari pool of {@link #poolSize} connections
         * and closes it. The password is never logged.
         */
        public Builder jdbc(String url, String user, String password) {
            this.jdbcUrl = Objects.requireNonNull(url, "url");
            this.jdbcUser = user;
            this.jdbcPassword = password;
            this.dataSource = null;
            return this;
        }

        /** Size of the pool created by {@link #jdbc}, &ge; 1 (default 10). */
        public Builder poolSize(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("database pool size must be >= 1, got " + v);
            }
            this.poolSize = v;
            return this;
        }

        /**
         * A Redis URI: {@code redis://}, {@code rediss://}, {@code redis-sentinel://h1,h2/db?master=NAME}
         * or {@code redis-cluster://h1:p1,h2:p2}, with the default command timeout (2 s). The Roster
         * creates the client and closes it.
         */
        public Builder redisUri(String uri) {
            return redisOptions(RedisConnectionOptions.of(uri));
        }

        /** Redis URI plus command timeout and request-queue bound; the Roster creates and closes the client. */
        public Builder redisOptions(RedisConnectionOptions v) {
            this.redisOptions = Objects.requireNonNull(v, "redisOptions");
            this.redisConnector = null;
            this.redisClient = null;
            return this;
        }

        /** Lettuce event loops shared with the caller (who shuts them down) for the client the Roster creates. */
        public Builder clientResources(ClientResources v) {
            this.clientResources = Objects.requireNonNull(v, "clientResources");
            return this;
        }

        /** A connector the caller owns (shared with other projections); the Roster does not close it. */
        public Builder redisConnector(RedisConnector v) {
            this.redisConnector = Objects.requireNonNull(v, "redisConnector");
            this.redisOptions = null;
            this.redisClient = null;
            return this;
        }

        /**
         * An existing Lettuce {@code RedisClient} or {@code RedisClusterClient} the caller owns; the
         * Roster opens its own connections on it and closes only those. See {@link
         * RedisConnector#over} for the options the client should carry.
         *
         * @param uri where to connect (standalone or Sentinel) and how the endpoint is named in messages
         */
        public Builder redisClient(AbstractRedisClient client, String uri) {
            this.redisClient = Objects.requireNonNull(client, "client");
            this.redisOptions = RedisConnectionOptions.of(uri);
            this.redisConnector = null;
            return this;
        }

        /** The Redis key prefix ({@code [A-Za-z0-9_.:-]{0,100}}, default {@code "roster:"}). */
        public Builder keyPrefix(String v) {
            this.keyPrefix = Objects.requireNonNull(v, "keyPrefix");
            return this;
        }

        /** The configuration (validated records; see {@link ServiceConfig}). */
        public Builder config(ServiceConfig v) {
            this.config = Objects.requireNonNull(v, "config");
            return this;
        }

        /** The application clock (time filter, staleness, back-offs); the system clock by default. */
        public Builder clock(InstantSource v) {
            this.clock = Objects.requireNonNull(v, "clock");
            return this;
        }

        /** Whether {@link #build()} runs the schema migrations first (default true). */
        public Builder migrate(boolean v) {
            this.migrate = v;
            return this;
        }

        /**
         * Whether to LISTEN for outbox notifications so replay starts right after a commit (default
         * true); without it replay polls every {@code outbox_poll_interval_seconds}. The listener needs
         * a session connection: opened from the JDBC URL (also that of a {@code HikariDataSource}),
         * else one connection of the data source is held for it.
         */
        public Builder listen(boolean v) {
            this.listen = v;
            return this;
        }

        /**
         * Connects, migrates (unless turned off), starts the service, the near cache, the write-behind
         * and the LISTEN wake-up, and returns the running Roster. A Redis that cannot be reached is not
         * fatal once connected (the service starts not ready and retries); a failure before that closes
         * whatever was already created and is thrown.
         *
         * @throws IllegalStateException when no database or no Redis was given
         * @throws dev.roster.core.projection.ProjectionUnavailableException when Redis cannot be reached
         */
        public Roster build() {
            if (dataSource == null && jdbcUrl == null) {
                throw new IllegalStateException("Roster needs a database: call dataSource(...) or jdbc(...)");
            }
            if (redisOptions == null && redisConnector == null) {
                throw new IllegalStateException(
                        "Roster needs Redis: call redisUri(...), redisOptions(...), redisConnector(...) or redisClient(...)");
            }
            List<AutoCloseable> owned = new ArrayList<>();
            OutboxListener listener = null;
            try {
                DataSource ds = dataSource;
                if (ds == null) {
                    HikariDataSource pool = Databases.pool(jdbcUrl, jdbcUser, jdbcPassword, poolSize);
                    owned.add(pool);
                    ds = pool;
                }
                if (migrate) {
                    new Migrator(ds).migrate();
                }
                RedisProjection projection;
                Duration grace = config.projection().grace();
                if (redisConnector != null) {
                    projection = RedisProjection.over(redisConnector, keyPrefix, grace);
                } else if (redisClient != null) {
                    RedisConnector c = RedisConnector.over(redisClient, redisOptions);
                    owned.add(c);
                    projection = RedisProjection.over(c, keyPrefix, grace);
                } else if (clientResources != null) {
                    projection = RedisProjection.connect(redisOptions, clientResources, keyPrefix, grace);
                } else {
                    projection = RedisProjection.connect(redisOptions, keyPrefix, grace);
                }
                // Closed before the connector and the pool (owned is closed in order).
                owned.add(0, projection);
                PostgresSchedulingSource source = new PostgresSchedulingSource(ds);
                DeadLetterRepository deadLetters = new DeadLetterRepository(ds);
                AccountRepository accounts = new AccountRepository(ds);
                SnapshotService service = SnapshotService.newBuilder()
                        .source(source)
                        .projection(projection)
                        .config(config)
                        .clock(clock)
                        .deadLetters(new PostgresDeadLetterSink(deadLetters))
                        .lastUsedWriter(accounts::batchUpdateLastUsed)
                        .build();
                owned.add(0, service);
                service.start();
                if (listen) {
                    listener = OutboxListener.start(listenConnections(ds), service::wake);
                }
                owned.remove(service);
                return new Roster(service, projection, source, ds, deadLetters, config, clock, listener, owned);
            } catch (RuntimeException e) {
                if (listener != null) {
                    listener.close();
                }
                for (AutoCloseable c : owned) {
                    try {
                        c.close();
                    } catch (Exception suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
                throw e;
            }
        }

        private OutboxListener.ConnectionFactory listenConnections(DataSource ds) {
            String url = jdbcUrl;
            String user = jdbcUser;
            String password = jdbcPassword;
            if (url == null && ds instanceof HikariDataSource h && h.getJdbcUrl() != null) {
                url = h.getJdbcUrl();
                user = h.getUsername();
                password = h.getPassword();
            }
            if (url == null) {
                // Any other DataSource: one of its connections is held for LISTEN (closing it returns
                // it to its pool).
                return ds::getConnection;
            }
            String u = url;
            String n = user;
            String p = password;
            return () -> DriverManager.getConnection(u, n, p);
        }
    }
}
