package dev.roster.it.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.roster.Roster;
import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.audit.AuditReport;
import dev.roster.core.config.NearCacheConfig;
import dev.roster.core.config.ProjectionConfig;
import dev.roster.core.config.ReplayConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.outbox.OutboxStats;
import dev.roster.it.OracleCheck;
import dev.roster.postgres.DeadLetterRepository;
import dev.roster.postgres.DeadLetterRepository.DeadLetter;
import dev.roster.postgres.GroupRepository;
import dev.roster.postgres.Migrator;
import dev.roster.postgres.PostgresSchedulingSource;
import dev.roster.redis.RedisConnectionOptions;
import dev.roster.testkit.PostgresHarness;
import dev.roster.testkit.PostgresHarness.TestDatabase;
import dev.roster.testkit.RedisHarness;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * One fault scenario's world: a fresh migrated database of the shared PostgreSQL, a key prefix of the
 * shared Redis, a writer pool, three groups, the Roster instances under test, and the convergence check
 * every scenario ends with (the audit, docs/architecture.md, "The audit"):
 *
 * <ul>
 *   <li>an instance holds the replayer lease and is ready (or a child process holds it);
 *   <li>the outbox has nothing pending at the shared watermark (every committed event is applied or
 *       dead-lettered, and every dead letter names its error);
 *   <li>the audit finds no drift, nothing unstable and nothing of a stale generation;
 *   <li>every live instance's {@code list} equals the bucket query at its own clock for every canonical
 *       bucket of the scenario's groups and group 0;
 *   <li>the independent oracle ({@link OracleCheck}, over the raw rows) agrees with every snapshot
 *       (a bucket never published is a failure unless the oracle says it is empty), every instance's
 *       answers for every group, platform and force, and every card;
 *   <li>every account's card as an instance serves it equals the database's ("events lost" counts the
 *       accounts where it does not; it must be 0);
 *   <li>no secret is in Redis, the logs or any answer ({@link SecretScan}).
 * </ul>
 */
public final class FaultEnv implements AutoCloseable {
    /** Short leases and quick retries, so faults heal in seconds; a short near-cache staleness. */
    public static final ServiceConfig CONFIG = ServiceConfig.DEFAULTS
            .withProjection(new ProjectionConfig(Duration.ofSeconds(3), Duration.ofMillis(500), Duration.ofSeconds(60)))
            .withReplay(ReplayConfig.DEFAULTS
                    .withBatchSize(50)
                    .withMaxAttempts(3)
                    .withRetryBackoff(Duration.ofMillis(50), Duration.ofMillis(500)))
            .withNearCache(new NearCacheConfig(
                    true, Duration.ofSeconds(1), Duration.ofMillis(250), 10_000, Duration.ofSeconds(1)));

    /** The size in effect. */
    public final FaultSize size = FaultSize.current();

    public final String scenario;
    public final TestDatabase db;
    public final HikariDataSource ds;
    public final PostgresSchedulingSource source;
    public final DeadLetterRepository deadLetters;
    public final String prefix;
    public final List<Long> groupIds = new ArrayList<>();
    /** The instances readers use and convergence checks. */
    public final List<Roster> live = new CopyOnWriteArrayList<>();

    private final List<Roster> all = new CopyOnWriteArrayList<>();
    private final long startEventId;
    private Load load;
    private long faultStart;
    private long servedAtFault;
    private long failedAtFault;
    private long fallbackAtFault;
    private long faultEnd;
    private double fallbackQps;

    /** A fresh world for {@code scenario} (used as database hint and in the report). */
    public FaultEnv(Class<?> testClass, String method) {
        SecretScan.install();
        this.scenario = testClass.getSimpleName() + "." + method;
        this.db = PostgresHarness.shared().newDatabase(method);
        HikariConfig cfg = new HikariConfig();
        cfg.setJdbcUrl(db.jdbcUrl());
        cfg.setUsername(db.user());
        cfg.setPassword(db.password());
        cfg.setMaximumPoolSize(4);
        cfg.setMinimumIdle(1);
        // Writes during a database outage must fail fast, not queue.
        cfg.setConnectionTimeout(1_000);
        cfg.setInitializationFailTimeout(-1);
        cfg.setPoolName("fault-writer");
        // Named so the LISTEN scenario can tell the listeners' sessions (driver default name) apart.
        cfg.addDataSourceProperty("ApplicationName", "fault-writer");
        this.ds = new HikariDataSource(cfg);
        new Migrator(ds).migrate();
        this.source = new PostgresSchedulingSource(ds);
        this.deadLetters = new DeadLetterRepository(ds);
        this.prefix = RedisHarness.shared().keyPrefix(testClass);
        GroupRepository groups = new GroupRepository(ds);
        groupIds.add(groups.create("team-a", "anthropic"));
        groupIds.add(groups.create("team-b", "openai"));
        groupIds.add(groups.create("team-c", "gemini"));
        this.startEventId = queryLong("SELECT coalesce(max(id), 0) FROM scheduler_outbox");
    }

    /** A started Roster over this world with the system clock. */
    public Roster roster() {
        return roster(InstantSource.system());
    }

    /** A started Roster over this world with {@code clock} as application clock. */
    public Roster roster(InstantSource clock) {
        return roster(clock, CONFIG);
    }

    /**
     * A started Roster over this world with {@code clock} and a scenario's own configuration (its run
     * mode and group-0 scope must be {@link #CONFIG}'s: the convergence check judges with those).
     */
    public Roster roster(InstantSource clock, ServiceConfig config) {
        if (config.runMode() != CONFIG.runMode() || !config.scope().equals(CONFIG.scope())) {
            throw new IllegalArgumentException("the convergence check assumes the suite's run mode and scope");
        }
        Roster r = Roster.builder()
                .jdbc(db.jdbcUrl(), db.user(), db.password())
                .poolSize(4)
                .redisOptions(RedisConnectionOptions.of(RedisHarness.shared().uri())
                        .withCommandTimeout(Duration.ofSeconds(1)))
                .keyPrefix(prefix)
                .config(config)
                .clock(clock)
                .build();
        all.add(r);
        live.add(r);
        return r;
    }

    /** Closes an instance and takes it out of the live set. */
    public void stop(Roster r) {
        live.remove(r);
        r.close();
    }

    /** Seeds accounts and starts the load (group status flips only when asked). */
    public Load load(boolean groupFlips) {
        load = new Load(ds, groupIds, size, groupFlips, () -> live);
        load.seed();
        return load;
    }

    /** Awaits the first ready instance (the initial full rebuild is done). */
    public void awaitReady() {
        await().atMost(size.converge())
                .pollInterval(Duration.ofMillis(100))
                .until(() -> live.stream().anyMatch(Roster::ready));
    }

    /** Marks the start of the fault (for the report's read and fallback figures). */
    public void faultStarts() {
        faultStart = System.nanoTime();
        servedAtFault = load.served.get();
        failedAtFault = load.failed.get();
        fallbackAtFault = fallbacks();
    }

    /** Marks the end of the fault (healed); convergence time is measured from here. */
    public void faultEnds() {
        faultEnd = System.nanoTime();
        double secs = Math.max(1e-3, (faultEnd - faultStart) / 1e9);
        fallbackQps = (fallbacks() - fallbackAtFault) / secs;
    }

    private long fallbacks() {
        long n = 0;
        for (Roster r : all) {
            n += r.admin().fallbackQueries();
        }
        return n;
    }

    /**
     * Stops the load, awaits convergence, checks everything of the class comment, writes the report
     * row and returns it.
     *
     * @param faults what was injected, for the report
     * @param expectedDeadLetters how many events the scenario dead-letters on purpose
     */
    public Reliability converge(String faults, int expectedDeadLetters) {
        if (faultEnd == 0) {
            faultEnds();
        }
        long served = load == null ? 0 : load.served.get() - servedAtFault;
        long failedReads = load == null ? 0 : load.failed.get() - failedAtFault;
        if (load != null) {
            load.close();
            assertThat(load.unexpected())
                    .as("load failures no fault explains (a write failing with the database up, an untyped read"
                            + " error, a load thread's death)")
                    .isEmpty();
        }
        try {
            await("convergence of " + scenario)
                    .atMost(size.converge())
                    .pollInterval(Duration.ofMillis(200))
                    // The check runs Redis commands: do not let a timeout interrupt them mid-call.
                    .pollInSameThread()
                    .ignoreExceptions()
                    .until(this::converged);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("no convergence within " + size.converge() + "; last: " + notYet, e);
        }
        long convergeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - faultEnd);
        // Everything below must hold once converged (asserted, not awaited).
        Roster any = live.getFirst();
        OutboxStats stats = any.admin().outbox();
        assertThat(stats.pending()).as("events pending after convergence").isZero();
        List<DeadLetter> dead = deadLetters.list(10_000);
        assertThat(dead).as("dead letters").hasSize(expectedDeadLetters);
        assertThat(dead).allSatisfy(d -> assertThat(d.error()).as("reason").isNotBlank());
        long lost = lostChanges(any);
        assertThat(lost).as("accounts whose committed change is not served").isZero();
        int keys = SecretScan.scanRedis();
        assertThat(keys).isPositive();
        assertThat(SecretScan.leaks())
                .as("credentials found outside the database")
                .isEmpty();
        long committed = queryLong("SELECT count(*) FROM scheduler_outbox WHERE id > " + startEventId);
        Reliability row = new Reliability(
                scenario,
                load == null ? "-" : load.describe(live.size()),
                faults,
                served,
                failedReads,
                fallbackQps,
                convergeMs,
                committed,
                dead.size(),
                lost);
        row.write();
        return row;
    }

    private volatile String notYet = "not checked";

    /** Whether the world has converged (see the class comment); remembers what is still off. */
    boolean converged() {
        try {
            notYet = whatIsOff();
        } catch (RuntimeException e) {
            notYet = "check failed: " + e;
        }
        return notYet == null;
    }

    private String whatIsOff() {
        Optional<Roster> holder =
                live.stream().filter(r -> r.admin().isReplayer()).findFirst();
        if (holder.isEmpty() && replayerLeaseHeldElsewhere()) {
            // The replayer is another process (a child): judge through any live instance.
            holder = live.stream().filter(Roster::ready).findFirst();
        }
        if (holder.isEmpty() || !holder.get().ready()) {
            return "no ready replayer (holder present: " + holder.isPresent() + ")";
        }
        Roster r = holder.get();
        OutboxStats st = r.admin().outbox();
        if (st.pending() != 0) {
            return "pending " + st;
        }
        AuditReport a = r.audit();
        // The production audit's "missing" is not judged here; the oracle below fails a missing bucket
        // unless the bucket query over the raw rows says it is empty.
        if (!a.drifts().isEmpty()
                || !a.unstable().isEmpty()
                || !a.staleGeneration().isEmpty()) {
            return "audit " + a;
        }
        for (int i = 0; i < live.size(); i++) {
            Roster each = live.get(i);
            if (!each.ready()) {
                return "instance " + i + " not ready";
            }
            String diff = listsDiffer(each);
            if (diff != null) {
                return "instance " + i + ": " + diff;
            }
            // Beside the production audit: the independent oracle over the raw rows judges the
            // projection, this instance's answers and its cards.
            List<String> oracle = OracleCheck.problems(
                    ds,
                    CONFIG.runMode(),
                    CONFIG.scope().group0(),
                    each.projection(),
                    each.service().generation(),
                    each::list,
                    each::getAccount,
                    each::now,
                    List.of());
            if (!oracle.isEmpty()) {
                return "instance " + i + " disagrees with the oracle: " + oracle;
            }
        }
        return null;
    }

    private boolean replayerLeaseHeldElsewhere() {
        Object n = RedisHarness.shared().command("EXISTS", new dev.roster.redis.RedisKeys(prefix).lease("replayer"));
        return Long.valueOf(1).equals(n);
    }

    private String listsDiffer(Roster r) {
        List<Long> groups = new ArrayList<>(groupIds);
        groups.add(null);
        for (Long g : groups) {
            for (String p : Load.PLATFORMS) {
                for (boolean force : new boolean[] {false, true}) {
                    var l = r.list(g, p, force);
                    Instant now = r.now();
                    List<AccountCard> q =
                            source.loadBucketAt(l.bucket(), CONFIG.runMode(), CONFIG.effectiveGroup0Scope(), now);
                    if (!ids(q).equals(ids(l.accounts()))) {
                        return "list " + l.bucket() + " from " + l.source() + " v" + l.version() + " = "
                                + ids(l.accounts()) + ", query " + ids(q);
                    }
                }
            }
        }
        return null;
    }

    /** Accounts whose card as {@code r} serves it differs from the database's (updated_at aside). */
    long lostChanges(Roster r) {
        List<Long> ids = new ArrayList<>();
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT id FROM accounts ORDER BY id")) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        Map<Long, AccountCard> truth = source.loadCards(ids);
        long lost = 0;
        for (long id : ids) {
            AccountCard want = truth.get(id);
            Optional<AccountCard> got = r.getAccount(id);
            SecretScan.inspect("getAccount", String.valueOf(got));
            boolean same = want == null
                    ? got.isEmpty()
                    : got.isPresent() && got.get().withUpdatedAt(null).equals(want.withUpdatedAt(null));
            if (!same) {
                System.out.println("lost change: account " + id + " database " + want + " served " + got);
                lost++;
            }
        }
        return lost;
    }

    private static List<Long> ids(List<AccountCard> cards) {
        return cards.stream().map(AccountCard::id).toList();
    }

    /**
     * What every live instance's full rebuilder and lag monitor had done at this moment, to prove
     * later ({@link #assertNoFullRebuildSince}) that no full rebuild ran in a window: a full rebuild
     * repairs whatever a skipped event lost, so a scenario that tests for skips must not have one.
     */
    public Map<Roster, RebuildMark> rebuildMark() {
        Map<Roster, RebuildMark> m = new java.util.LinkedHashMap<>();
        for (Roster r : live) {
            m.put(r, rebuildMarkOf(r));
        }
        return m;
    }

    /**
     * A rebuilder's state at a mark.
     *
     * @param runs full rebuild runs started, per reason
     * @param busy whether one was running or queued (one in flight would run into the window)
     * @param lagTriggered lag and backlog rebuilds the lag monitor requested
     */
    public record RebuildMark(Map<String, Long> runs, boolean busy, long lagTriggered) {}

    /**
     * Asserts that no instance of {@code mark} started a full rebuild (of any reason: generation,
     * interval, lag, backlog, dead letter, admin) since it, had one in flight at it, or saw its lag
     * monitor request one.
     */
    public void assertNoFullRebuildSince(Map<Roster, RebuildMark> mark) {
        assertThat(mark).as("instances marked").isNotEmpty();
        Map<Roster, RebuildMark> now = rebuildMark();
        int i = 0;
        for (Map.Entry<Roster, RebuildMark> e : mark.entrySet()) {
            RebuildMark before = e.getValue();
            // An instance stopped since (a scenario's victim) is judged by its counters all the same.
            RebuildMark after = now.containsKey(e.getKey()) ? now.get(e.getKey()) : rebuildMarkOf(e.getKey());
            assertThat(before.busy())
                    .as("instance %d: a full rebuild in flight when the window began", i)
                    .isFalse();
            assertThat(after.runs())
                    .as("instance %d: full rebuilds by reason after the window (before: %s)", i, before.runs())
                    .isEqualTo(before.runs());
            assertThat(after.lagTriggered() - before.lagTriggered())
                    .as("instance %d: lag/backlog rebuilds requested in the window", i)
                    .isZero();
            i++;
        }
    }

    private static RebuildMark rebuildMarkOf(Roster r) {
        return new RebuildMark(
                r.service().rebuilder().runsByReason(),
                r.service().rebuilder().busy(),
                r.service().replayer().lagMonitor().triggered());
    }

    /** The bucket of a request, as the service resolves it. */
    public static Bucket bucket(Long group, String platform, boolean force) {
        return new Bucket(group == null ? 0 : group, platform, Mode.resolve(platform, force));
    }

    /** Runs statements on a fresh connection (auto-commit). */
    public void sql(String... statements) {
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** A single number from a query. */
    public long queryLong(String sql) {
        try (Connection c = db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** The load (after {@link #load}). */
    public Load load() {
        return load;
    }

    @Override
    public void close() {
        if (load != null) {
            load.close();
        }
        for (Roster r : all) {
            r.close();
        }
        ds.close();
    }
}
