package dev.roster;

import com.zaxxer.hikari.HikariDataSource;
import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.audit.AuditReport;
import dev.roster.core.audit.ServingReport;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.projection.Projection;
import dev.roster.core.selection.CandidateSource;
import dev.roster.core.selection.Outcome;
import dev.roster.core.selection.ReportResult;
import dev.roster.core.selection.SelectRequest;
import dev.roster.core.selection.Selection;
import dev.roster.core.selection.SelectionCounters;
import dev.roster.core.selection.SelectionMetrics;
import dev.roster.core.selection.SelectionStore;
import dev.roster.core.selection.Selector;
import dev.roster.core.selection.SlotLease;
import dev.roster.core.selection.SlotSweeper;
import dev.roster.core.selection.UsageLedger;
import dev.roster.core.selection.WaitTicket;
import dev.roster.core.service.CacheNotReadyException;
import dev.roster.core.service.FallbackLimitedException;
import dev.roster.core.service.FallbackTimeoutException;
import dev.roster.core.service.ListResult;
import dev.roster.core.service.SnapshotService;
import dev.roster.core.service.StoreUnavailableException;
import dev.roster.core.watch.AnswerFeed;
import dev.roster.core.watch.AnswerListener;
import dev.roster.core.watch.Watch;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.Databases;
import dev.roster.postgres.DeadLetterRepository;
import dev.roster.postgres.Migrator;
import dev.roster.postgres.OutboxListener;
import dev.roster.postgres.PostgresCooldownSink;
import dev.roster.postgres.PostgresDeadLetterSink;
import dev.roster.postgres.PostgresSchedulingSource;
import dev.roster.redis.RedisConnectionOptions;
import dev.roster.redis.RedisConnector;
import dev.roster.redis.RedisProjection;
import dev.roster.redis.RedisSelectionStore;
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
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * <p><b>Selection</b>. Instead of choosing from {@link #list} itself, a gateway can let
 * {@link #select} pick the account: sticky session, load-aware priority order, fallback wait plan, with a
 * concurrency slot counted in Redis and shared by every instance. Release the slot when the upstream
 * call ends and {@link #report} what the upstream answered:
 *
 * <pre>{@code
 * Selection s = roster.select(SelectRequest.of(groupId, "anthropic").withSession(sessionHash).withModel(model));
 * if (s instanceof Selection.Acquired a) {
 *     try {
 *         int status = callUpstream(a.card());
 *         roster.report(a.card().id(), Outcome.ofStatus(status, resetAt));
 *     } finally {
 *         roster.release(a.lease());
 *     }
 * }
 * }</pre>
 *
 * <p><b>Threads.</b> A started Roster runs: {@code roster-replay} (outbox replay), {@code
 * roster-rebuild} (full rebuilds), {@code roster-bucket-*} (bucket rebuilds), {@code
 * roster-fallback-*} (database fallback queries), {@code roster-lease-*} (lease renewal), {@code
 * roster-nearcache-refresh} and {@code roster-nearcache-check-*} (near cache), {@code
 * roster-last-used-*} (write-behind), {@code roster-outbox-listen} (LISTEN), {@code roster-slot-sweeper}
 * (expired slots, every {@code slot_cleanup_interval}), {@code roster-watch} (once {@link #watch} is first
 * called), plus Lettuce's event
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
    private static final Logger LOG = LoggerFactory.getLogger(Roster.class);

    private final SnapshotService service;
    private final RedisProjection projection;
    private final DataSource dataSource;
    private final ServiceConfig config;
    private final InstantSource clock;
    private final List<AutoCloseable> owned;
    private final @Nullable OutboxListener listener;
    private final RosterAdmin admin;
    private final Selector selector;
    private final RedisSelectionStore selectionStore;
    private final SelectionCounters selectionCounters;
    private final SlotSweeper sweeper;
    private final Object lifecycle = new Object();
    private boolean closed;
    private @Nullable AnswerFeed feed;

    private Roster(
            SnapshotService service,
            RedisProjection projection,
            DataSource dataSource,
            DeadLetterRepository deadLetters,
            ServiceConfig config,
            InstantSource clock,
            @Nullable OutboxListener listener,
            List<AutoCloseable> owned,
            SelectionParts selection) {
        this.service = service;
        this.projection = projection;
        this.dataSource = dataSource;
        this.config = config;
        this.clock = clock;
        this.listener = listener;
        this.owned = owned;
        this.admin = new RosterAdmin(service, projection, deadLetters, dataSource);
        this.selector = selection.selector();
        this.selectionStore = selection.store();
        this.selectionCounters = selection.counters();
        this.sweeper = selection.sweeper();
    }

    /** The selection parts built with the Roster. */
    private record SelectionParts(
            Selector selector, RedisSelectionStore store, SelectionCounters counters, SlotSweeper sweeper) {}

    /** A new builder. */
    public static Builder builder() {
        return new Builder();
    }

    // ---- hot path -------------------------------------------------------------------------------

    /**
     * The schedulable accounts of the request's bucket at this instant, in the bucket query's order
     * (docs/architecture.md, "The bucket query"), with whether the list is mixed and the (generation, version) it came
     * from. A warm bucket is answered from memory without allocating: the same {@link ListResult} object is returned
     * while the bucket's snapshot and time window ({@link ListResult#validUntil()}) last (treat it as
     * immutable; it is).
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

    /** Audits Redis against PostgreSQL (docs/architecture.md, "The audit"): drift, if any, per bucket. */
    public AuditReport audit() {
        return service.audit();
    }

    /** What every live instance's near cache serves, against Redis; see {@link RosterAdmin#servingAudit()}. */
    public ServingReport servingAudit() {
        return service.servingAudit();
    }

    /** Whether the projection has been verified current or fully rebuilt since start. */
    public boolean ready() {
        return service.ready();
    }

    /** The application clock's instant (the one the time filter uses). */
    public Instant now() {
        return clock.instant();
    }

    // ---- watch -----------------------------------------------------------------------------------

    /**
     * Tells {@code listener} whenever what {@link #list} answers for one of {@code buckets} changes, so a
     * caller can keep its own copy of the answers and re-read only on change. Each bucket is named by its
     * text form's parts ({@link Bucket#parse}, e.g. {@code 3:anthropic:mixed}) and must be one that {@link
     * #list} answers under that name ({@link AnswerFeed#requireWatchable}).
     *
     * <p>The listener gets each bucket's current {@link dev.roster.core.watch.AnswerState} soon after this
     * call, then a new state each time the bucket's answer changes: a newer (generation, version) reached
     * this instance's near cache (delivered as soon as the near cache installs it), the bucket was
     * retired, or a time-window boundary passed (a card's block ended or its expiry was reached, on the
     * application clock, with no version change). States never go back to an older (generation, version).
     * Answers that do not come from the near cache (a Redis outage past {@code near_cache.max_stale}, a
     * disabled or full near cache) are re-read every {@code near_cache.check_interval}.
     *
     * <p>Calls come from one thread ({@code roster-watch}) shared by every watch of this Roster, one at a
     * time: the listener must return quickly and never block. Close the returned watch to stop; {@link
     * #close()} stops every watch.
     *
     * @throws IllegalArgumentException when no bucket is given or a bucket is not answered under its name
     * @throws IllegalStateException when this Roster is closed
     */
    public Watch watch(Collection<Bucket> buckets, AnswerListener listener) {
        return feed().watch(buckets, listener);
    }

    private AnswerFeed feed() {
        synchronized (lifecycle) {
            if (closed) {
                throw new IllegalStateException("this Roster is closed");
            }
            if (feed == null) {
                // Started on first use: a Roster nobody watches runs no watch thread.
                feed = new AnswerFeed(
                        service, config.runMode(), clock, config.nearCache().checkInterval());
            }
            return feed;
        }
    }

    // ---- selection -------------------------------------------------------------------------------

    /**
     * Picks the account for one request and holds a concurrency slot on it (docs/upstream.md U-SEL,
     * decisions SEL1–SEL9). Candidates are the request's bucket from the near-cached {@link #list}, minus
     * excluded ids, accounts not admissible for the platform, accounts that do not serve the model and
     * accounts inside a cooldown reported by any instance (read from Redis at every call). Layers in
     * sub2api's order: the session's bound account, the load-aware priority order (or the legacy single
     * best when {@code load_batch_enabled} is false), a wait plan.
     *
     * <p>The answer is {@link Selection.Acquired} (call the upstream, then {@link #release(SlotLease)}),
     * {@link Selection.Wait} (the caller is counted in that account's queue: wait a little and call again
     * with {@link SelectRequest#withWaitTicket}, or {@link #release(WaitTicket)} when giving up) or {@link
     * Selection.None} with a reason a person can act on.
     *
     * @throws IllegalArgumentException for a malformed request
     * @throws dev.roster.core.service.SchedulerException when the bucket cannot be listed (see {@link #list})
     * @throws dev.roster.core.projection.ProjectionUnavailableException when Redis cannot count the slot:
     *     without the shared count nothing is handed out
     */
    public Selection select(SelectRequest request) {
        return selector.select(request);
    }

    /**
     * {@link #select(SelectRequest)} with the bucket listing bounded by {@code budget} (as {@link
     * #list(Long, String, boolean, Duration)}): for callers with a deadline, such as the HTTP server.
     */
    public Selection select(SelectRequest request, Duration budget) {
        return selector.select(request, budget);
    }

    /**
     * Frees a slot when the upstream call ends. Idempotent: releasing twice, or a lease that already
     * expired, is harmless.
     *
     * @return whether the slot was still held
     */
    public boolean release(SlotLease lease) {
        return selector.release(lease);
    }

    /**
     * {@link #release(SlotLease)} for a caller that kept only the account id and the slot token (e.g. an
     * HTTP client).
     *
     * @throws IllegalArgumentException when the id is not positive or the token malformed
     */
    public boolean release(long accountId, String token) {
        return selector.release(accountId, token);
    }

    /**
     * Leaves a wait queue without retrying (idempotent); a ticket that is not handed back stops counting
     * at the end of its wait timeout.
     *
     * @return whether the ticket was still live
     */
    public boolean release(WaitTicket ticket) {
        return selector.release(ticket);
    }

    /**
     * Extends a held slot by {@code selection.slot_lease_ttl} from now, for upstream calls (long streams)
     * that outlast it.
     *
     * @return whether the slot was still held; {@code false} means it expired and may already be reused
     */
    public boolean renew(SlotLease lease) {
        return selector.renew(lease);
    }

    /**
     * Records what the upstream answered for an account, by error class (decisions SEL5, CD1–CD3): a 429
     * rate-limits it until the announced reset (capped) or for short steps that escalate with consecutive
     * 429s, an exhausted quota until its window resets, an overload (529/503) for short escalating steps,
     * an authentication failure makes it temporarily unschedulable or puts it into error status, and a
     * refused model ({@link Outcome#modelUnsupported}) cools that model on that account only; a success
     * ends the escalation (durations: {@code selection.cooldowns.*}). The cooldown is in Redis at once,
     * so every instance skips the account (or the model on it) at its next {@link #select}, and an
     * account-wide one is then written to PostgreSQL, so capture and replay bring it into the snapshots.
     * Deadlines only ever extend: a report with an earlier deadline leaves a later
     * one in force. Build outcomes with {@link Outcome#ofStatus}.
     *
     * @throws IllegalArgumentException when {@code accountId <= 0}
     * @throws dev.roster.core.selection.UnknownAccountException when the account does not exist (nothing
     *     is written)
     * @throws dev.roster.core.projection.ProjectionUnavailableException when Redis cannot store the cooldown
     */
    public ReportResult report(long accountId, Outcome outcome) {
        return selector.report(accountId, outcome, null);
    }

    /**
     * {@link #report(long, Outcome)} with the call's time-to-first-token. Besides the cooldowns, the
     * outcome and {@code ttft} join the account's health, shared by every instance (decision SP2-1): a
     * success or an overload, authentication or other failure is a sample (a 429, an exhausted quota and a
     * refused model are not). A session bound to an account whose recent error rate or mean
     * time-to-first-token is above {@code selection.sticky.*} is served by another account for that
     * request while its binding is kept (decisions SP2-2, SP2-3).
     *
     * @param ttft the time from sending the request to the first token, or {@code null} when unknown;
     *     0..24h
     * @throws IllegalArgumentException when {@code accountId <= 0} or {@code ttft} is negative or above 24h
     * @throws dev.roster.core.selection.UnknownAccountException when the account does not exist (nothing
     *     is written)
     * @throws dev.roster.core.projection.ProjectionUnavailableException when Redis cannot store the report
     */
    public ReportResult report(long accountId, Outcome outcome, @Nullable Duration ttft) {
        return selector.report(accountId, outcome, ttft);
    }

    /** The selector underneath (sweeps, scheduling section in use); owned by this Roster. */
    public Selector selector() {
        return selector;
    }

    /**
     * The shared slot, wait, sticky and cooldown store (Redis) underneath, for inspection ({@code loads});
     * owned by this Roster.
     */
    public SelectionStore selectionStore() {
        return selectionStore;
    }

    /** This instance's selection counters (per layer, sticky hits/misses/drops, waits, cooldowns). */
    public SelectionCounters selectionCounters() {
        return selectionCounters;
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
     * LISTEN listener, the slot sweeper, the service (replay, rebuilds, near cache, lease renewal; queued last-used
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
        if (feed != null) {
            feed.close();
        }
        if (listener != null) {
            listener.close();
        }
        sweeper.close();
        service.close();
        selectionStore.close();
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("closing {} failed: {}", c.getClass().getSimpleName(), e.getMessage());
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
        private @Nullable DataSource dataSource;
        private @Nullable String jdbcUrl;
        private @Nullable String jdbcUser;
        private @Nullable String jdbcPassword;
        private int poolSize = 10;
        private @Nullable RedisConnectionOptions redisOptions;
        private @Nullable RedisConnector redisConnector;
        private @Nullable AbstractRedisClient redisClient;
        private @Nullable ClientResources clientResources;
        private String keyPrefix = "roster:";
        private ServiceConfig config = ServiceConfig.DEFAULTS;
        private InstantSource clock = InstantSource.system();
        private boolean migrate = true;
        private boolean listen = true;
        private SelectionMetrics selectionMetrics = SelectionMetrics.NONE;

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
        public Builder jdbc(String url, @Nullable String user, @Nullable String password) {
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

        /**
         * Where selection events go besides {@link Roster#selectionCounters()} (e.g. a Micrometer adapter);
         * must not block or throw. Default: only the counters.
         */
        public Builder selectionMetrics(SelectionMetrics v) {
            this.selectionMetrics = Objects.requireNonNull(v, "selectionMetrics");
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
                    // Checked above: without a data source there is a JDBC URL.
                    HikariDataSource pool = Databases.pool(
                            Objects.requireNonNull(jdbcUrl, "jdbcUrl"), jdbcUser, jdbcPassword, poolSize);
                    owned.add(pool);
                    ds = pool;
                }
                if (migrate) {
                    new Migrator(ds).migrate();
                }
                // One connection for the projection and the selection store: Lettuce multiplexes it, and
                // both must see the same Redis (slots and cooldowns beside the cards they describe).
                RedisConnector connector = redisConnector;
                if (connector == null) {
                    // Checked above: without a connector there are options.
                    RedisConnectionOptions options = Objects.requireNonNull(redisOptions, "redisOptions");
                    if (redisClient != null) {
                        connector = RedisConnector.over(redisClient, options);
                    } else if (clientResources != null) {
                        connector = RedisConnector.connect(options, clientResources);
                    } else {
                        connector = RedisConnector.connect(options);
                    }
                    owned.add(0, connector);
                }
                RedisProjection projection = RedisProjection.over(
                        connector, keyPrefix, config.projection().grace());
                // Closed before the connector and the pool (owned is closed in order).
                owned.add(0, projection);
                RedisSelectionStore selectionStore = RedisSelectionStore.over(connector, keyPrefix, clock);
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
                SelectionCounters counters = new SelectionCounters();
                Selector selector = Selector.newBuilder()
                        .source(candidates(service))
                        .store(selectionStore)
                        .usage(usage(service))
                        .cooldownSink(new PostgresCooldownSink(ds))
                        .scheduling(config.scheduling())
                        .selection(config.selection())
                        .clock(clock)
                        .metrics(both(counters, selectionMetrics))
                        .build();
                SlotSweeper sweeper =
                        SlotSweeper.start(selector, config.scheduling().slotCleanupInterval());
                owned.remove(service);
                return new Roster(
                        service,
                        projection,
                        ds,
                        deadLetters,
                        config,
                        clock,
                        listener,
                        owned,
                        new SelectionParts(selector, selectionStore, counters, sweeper));
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

        /** The near-cached hot path, so a select costs no more than a list for its candidates. */
        private static CandidateSource candidates(SnapshotService service) {
            return new CandidateSource() {
                @Override
                public ListResult list(@Nullable Long groupId, String platform, boolean forcePlatform) {
                    return service.list(groupId, platform, forcePlatform);
                }

                @Override
                public ListResult list(
                        @Nullable Long groupId, String platform, boolean forcePlatform, @Nullable Duration budget) {
                    return service.list(groupId, platform, forcePlatform, budget);
                }

                @Override
                public Optional<AccountCard> getAccount(long accountId) {
                    return service.getAccount(accountId);
                }
            };
        }

        /**
         * The service's last-used path, so selection moves last-used exactly as {@link Roster#markUsed}
         * does (local view and Redis at once, PostgreSQL in the batched write).
         */
        private static UsageLedger usage(SnapshotService service) {
            return new UsageLedger() {
                @Override
                public Map<Long, Instant> lastUsed(Collection<Long> accountIds) {
                    return service.lastUsed(accountIds);
                }

                @Override
                public void markUsed(Map<Long, Instant> lastUsed) {
                    lastUsed.forEach(service::markUsed);
                }

                @Override
                public void noteUsed(Map<Long, Instant> lastUsed) {
                    lastUsed.forEach(service::noteUsed);
                }
            };
        }

        // NONE is a sentinel: the caller set no metrics of its own.
        @SuppressWarnings("ReferenceEquality")
        private static SelectionMetrics both(SelectionCounters counters, SelectionMetrics other) {
            return other == SelectionMetrics.NONE ? counters : new TeeMetrics(counters, other);
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
