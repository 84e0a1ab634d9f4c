package dev.roster;

import dev.roster.core.config.CooldownPolicy;
import dev.roster.core.config.NearCacheConfig;
import dev.roster.core.config.QuotaThresholds;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.config.StickyHealthThresholds;
import dev.roster.core.selection.AccountLoad;
import dev.roster.core.selection.Outcome;
import dev.roster.core.selection.QuotaUsage;
import dev.roster.core.selection.ReportResult;
import dev.roster.core.selection.SelectRequest;
import dev.roster.core.selection.Selection;
import dev.roster.core.selection.SlotLease;
import dev.roster.core.selection.WaitTicket;
import dev.roster.testkit.RedisHarness;
import dev.roster.testkit.TestClock;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * The driver of the scripted selection simulation: {@value #INSTANCES} {@link Roster} instances on one
 * real PostgreSQL and one real Redis, sharing one hand-moved {@link TestClock} (the application clock of
 * every instance, so slots, cooldowns, RPM windows and the snapshots' time filter all follow it). Client
 * threads move in lock step: in each tick of {@link #TICK} every client does what is due at that instant
 * (start a request, retry a wait, take the upstream's answer, report it and release the slot, fail over),
 * then the clock moves one tick. Within a tick the clients run concurrently against the three instances,
 * so the slot and RPM scripts race as in production, while minutes of simulated time pass in seconds.
 *
 * <p>Each client issues requests back to back with a short pause, with two sessions of its own (a fixed
 * model each) and a third of its requests without session; on an error answer it fails over to another
 * account (excluding those tried) up to {@link #ATTEMPTS} times; on a wait it retries each tick until its
 * own deadline from the first wait. Everything it sees goes to the {@link Run}'s log, which the oracle
 * reads; the driver checks nothing itself.
 */
final class ScriptedSimulation {
    static final int INSTANCES = 3;
    static final int CLIENTS = 15;
    static final Duration TICK = Duration.ofMillis(500);
    static final int ATTEMPTS = 3;
    /** The 5-hour used-% at which an account pauses ({@code selection.quota.threshold_5h}). */
    static final int QUOTA_THRESHOLD = 80;
    /** The slow account's time to first token, above {@link #STICKY_HEALTH}'s 20 s. */
    static final Duration SLOW_TTFT = Duration.ofSeconds(30);
    /**
     * The default TTFT threshold (20 s) and error rate, with a 30 s half-life and 2 samples: minutes of
     * simulated traffic are few reports, and a slow account answers seldom.
     */
    static final StickyHealthThresholds STICKY_HEALTH =
            new StickyHealthThresholds(50, Duration.ofSeconds(20), 2, Duration.ofSeconds(30));

    private static final String[] MODELS = {"m-a", "m-b"};

    /**
     * The report of an answer, as a gateway builds it from the upstream's response: the error class, a
     * quota's reset, the model, and with a success the 5-hour window's used-% the upstream announced.
     */
    static Outcome outcome(ScriptedUpstream.Answer answer, @Nullable String model) {
        return switch (answer) {
            case ScriptedUpstream.Success s -> {
                Outcome o = model == null
                        ? Outcome.of(Outcome.Kind.SUCCESS)
                        : Outcome.of(Outcome.Kind.SUCCESS).withModel(model);
                Instant reset = s.reset5h();
                yield reset == null ? o : o.withQuota(new QuotaUsage(new QuotaUsage.Window(s.used5h(), reset), null));
            }
            case ScriptedUpstream.RateLimited r -> Outcome.rateLimited(null);
            case ScriptedUpstream.ModelRefused m -> Outcome.modelUnsupported(Objects.requireNonNull(model, "model"));
            case ScriptedUpstream.QuotaExhausted q -> Outcome.quotaExhausted(q.resetAt());
        };
    }

    /** The time to first token a gateway measured, reported with a success ({@code null} otherwise). */
    static @Nullable Duration ttft(ScriptedUpstream.Answer answer) {
        return answer instanceof ScriptedUpstream.Success s ? s.ttft() : null;
    }

    // ---- the log -----------------------------------------------------------------------------

    /**
     * One upstream call: from the grant's tick to the release's tick.
     *
     * @param skipped what the select skipped before granting, by account
     */
    record Call(
            int client,
            long request,
            long account,
            @Nullable String model,
            @Nullable String session,
            Selection.Layer layer,
            Map<Long, Selection.Reason> skipped,
            long startTick,
            long endTick,
            ScriptedUpstream.Answer answer) {}

    /** A report and what the store put in force, at {@code tick}. */
    record Report(long tick, long account, @Nullable String model, Outcome outcome, ReportResult result) {}

    /**
     * A client request that ended without an upstream success.
     *
     * @param none whether it ended on a {@link Selection.None} (no account given), {@code cause} then
     *     naming its reason
     */
    record ClientError(long tick, int client, @Nullable String model, String cause, boolean none) {}

    /** What one run logged. */
    record Run(
            String policy,
            Instant start,
            long ticks,
            Map<String, Long> accounts,
            Map<Long, Integer> concurrency,
            Map<Long, Integer> rpmLimit,
            List<Call> calls,
            List<Report> reports,
            List<ClientError> errors,
            long served,
            List<String> violations,
            int redisSamples,
            Map<Long, Integer> upstreamMax,
            Map<String, OptionalLong> bindingsAtSnapshot,
            Map<String, OptionalLong> bindingsAtEnd,
            Set<String> sessions,
            long realMillis) {

        Instant at(long tick) {
            return start.plus(TICK.multipliedBy(tick));
        }

        long id(String name) {
            return Objects.requireNonNull(accounts.get(name), name);
        }
    }

    private final Servers servers;
    private final CooldownPolicy policy;
    private final String policyName;
    private final Duration length;
    private final Duration snapshotAt;

    /**
     * A simulation of {@code length} simulated time on the pool {@link #POOL} with {@code policy}, reading
     * the sessions' bindings from Redis at {@code snapshotAt} (from the start) and at the end.
     */
    ScriptedSimulation(
            Servers servers, String policyName, CooldownPolicy policy, Duration length, Duration snapshotAt) {
        this.servers = servers;
        this.policyName = policyName;
        this.policy = policy;
        this.length = length;
        this.snapshotAt = snapshotAt;
    }

    /** name, concurrency, rpm_limit (0 for none) of the pool, in insertion order. */
    static final List<Object[]> POOL = List.of(
            new Object[] {"a1", 3, 20},
            new Object[] {"a2", 2, 18},
            new Object[] {"a3", 3, 0},
            new Object[] {"a4", 4, 0},
            new Object[] {"a5", 2, 0},
            new Object[] {"a6", 6, 0});

    /**
     * Runs the script {@code script} (given the start instant and the accounts by name, it builds the
     * upstream) and returns the log.
     */
    Run run(ScriptFactory script) throws Exception {
        StringBuilder values = new StringBuilder();
        for (Object[] a : POOL) {
            values.append(values.isEmpty() ? "" : ", ")
                    .append("('")
                    .append(a[0])
                    .append("', 'openai', 'apikey', 1, ")
                    .append(a[1])
                    .append(", ")
                    .append((int) a[2] == 0 ? "NULL" : a[2])
                    .append(", '{}')");
        }
        servers.sql("INSERT INTO accounts (name, platform, type, priority, concurrency, rpm_limit, credentials)"
                + " VALUES " + values);
        Map<String, Long> accounts = new HashMap<>();
        Map<Long, Integer> concurrency = new HashMap<>();
        Map<Long, Integer> rpm = new HashMap<>();
        for (Object[] a : POOL) {
            long id = servers.ids("SELECT id FROM accounts WHERE name = '" + a[0] + "'")
                    .getFirst();
            accounts.put((String) a[0], id);
            concurrency.put(id, (Integer) a[1]);
            if ((int) a[2] > 0) {
                rpm.put(id, (Integer) a[2]);
            }
        }

        Instant start = Instant.ofEpochMilli(System.currentTimeMillis());
        TestClock clock = TestClock.at(start);
        // Confirmations run on real time while simulated time runs ~100x faster: a generous staleness
        // bound keeps the near cache serving (the snapshots still follow every change).
        ServiceConfig config = Servers.CONFIG
                .withNearCache(NearCacheConfig.DEFAULTS.withTiming(Duration.ofHours(6), Duration.ofMillis(200)))
                .withSelection(Servers.CONFIG
                        .selection()
                        .withCooldowns(policy)
                        .withQuota(new QuotaThresholds(QUOTA_THRESHOLD, 100))
                        .withStickyHealth(STICKY_HEALTH));
        List<Roster> rosters = new ArrayList<>();
        List<String> violations = new CopyOnWriteArrayList<>();
        try {
            for (int i = 0; i < INSTANCES; i++) {
                rosters.add(servers.roster().config(config).clock(clock).build());
            }
            for (Roster r : rosters) {
                org.awaitility.Awaitility.await().until(r::ready);
                org.awaitility.Awaitility.await()
                        .until(() -> r.list(null, "openai", false).accounts().size() == POOL.size());
            }
            ScriptedUpstream upstream = script.build(
                    new ScriptedUpstream(start, concurrency, violations, Duration.ofSeconds(1), SLOW_TTFT), accounts);

            long ticks = length.dividedBy(TICK);
            List<Call> calls = new CopyOnWriteArrayList<>();
            List<Report> reports = new CopyOnWriteArrayList<>();
            List<ClientError> errors = new CopyOnWriteArrayList<>();
            Set<String> sessions = java.util.concurrent.ConcurrentHashMap.newKeySet();
            AtomicInteger served = new AtomicInteger();
            AtomicInteger tick = new AtomicInteger();
            long snapshotTick = snapshotAt.dividedBy(TICK);
            Map<String, OptionalLong> atSnapshot = new java.util.concurrent.ConcurrentHashMap<>();
            CyclicBarrier barrier = new CyclicBarrier(CLIENTS, () -> {
                if (tick.get() + 1 == snapshotTick) {
                    // Between two ticks, so no client is selecting: the bindings as of that instant.
                    for (String s : sessions) {
                        binding(servers.prefix, s, clock.instant())
                                .ifPresent(b -> atSnapshot.put(s, OptionalLong.of(b)));
                    }
                }
                clock.advance(TICK);
                tick.incrementAndGet();
            });
            Sampler sampler = new Sampler(rosters.get(0), concurrency, violations);
            long t0 = System.nanoTime();
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    Client client = new Client(
                            c, rosters.get(c % INSTANCES), upstream, clock, calls, reports, errors, served, sessions);
                    fs.add(pool.submit(() -> {
                        try {
                            for (long t = 0; t < ticks; t++) {
                                client.step(t);
                                barrier.await(60, TimeUnit.SECONDS);
                            }
                        } catch (RuntimeException | Error e) {
                            // Break the lock step at once: the others fail fast instead of timing out.
                            barrier.reset();
                            throw e;
                        }
                        return null;
                    }));
                }
                @Nullable Exception first = null;
                for (Future<?> f : fs) {
                    try {
                        f.get(5, TimeUnit.MINUTES);
                    } catch (ExecutionException e) {
                        // The client that failed, not the ones the broken barrier stopped.
                        if (first == null || !(e.getCause() instanceof BrokenBarrierException)) {
                            first = first == null || first.getCause() instanceof BrokenBarrierException ? e : first;
                        }
                    }
                }
                if (first != null) {
                    throw first;
                }
            } finally {
                pool.shutdownNow();
                sampler.stop();
            }
            long realMillis = (System.nanoTime() - t0) / 1_000_000;
            Map<String, OptionalLong> bindings = new HashMap<>();
            for (String s : sessions) {
                bindings.put(s, binding(servers.prefix, s, clock.instant()));
            }
            return new Run(
                    policyName,
                    start,
                    ticks,
                    Map.copyOf(accounts),
                    Map.copyOf(concurrency),
                    Map.copyOf(rpm),
                    List.copyOf(calls),
                    List.copyOf(reports),
                    List.copyOf(errors),
                    served.get(),
                    List.copyOf(violations),
                    sampler.samples(),
                    upstream.maxInFlight(),
                    Map.copyOf(atSnapshot),
                    Map.copyOf(bindings),
                    Set.copyOf(sessions),
                    realMillis);
        } finally {
            rosters.forEach(Roster::close);
        }
    }

    /** Builds the script on the upstream once the accounts' ids are known. */
    @FunctionalInterface
    interface ScriptFactory {
        ScriptedUpstream build(ScriptedUpstream upstream, Map<String, Long> accounts);
    }

    /** One simulated client: a state machine stepped once per tick. */
    private static final class Client {
        private final int id;
        private final Roster roster;
        private final ScriptedUpstream upstream;
        private final TestClock clock;
        private final List<Call> calls;
        private final List<Report> reports;
        private final List<ClientError> errors;
        private final AtomicInteger served;
        private final Set<String> sessions;
        private final Random rnd;

        private long requestNo = -1;
        private long nextArrival;
        private @Nullable String session;
        private @Nullable String model;
        private final Set<Long> excluded = new HashSet<>();
        private int attempts;
        private @Nullable WaitTicket ticket;
        private @Nullable Instant waitDeadline;
        private Selection.@Nullable Acquired held;
        private ScriptedUpstream.@Nullable Answer answer;
        private long callStart;
        private long callEnd;
        private boolean active;

        Client(
                int id,
                Roster roster,
                ScriptedUpstream upstream,
                TestClock clock,
                List<Call> calls,
                List<Report> reports,
                List<ClientError> errors,
                AtomicInteger served,
                Set<String> sessions) {
            this.id = id;
            this.roster = roster;
            this.upstream = upstream;
            this.clock = clock;
            this.calls = calls;
            this.reports = reports;
            this.errors = errors;
            this.served = served;
            this.sessions = sessions;
            this.rnd = new Random(7219L * 31 + id);
            this.nextArrival = rnd.nextInt(4);
        }

        void step(long t) {
            if (held != null) {
                if (t >= callEnd) {
                    answered(t);
                }
                return;
            }
            if (ticket != null) {
                if (!clock.instant().isBefore(Objects.requireNonNull(waitDeadline, "deadline"))) {
                    roster.release(ticket);
                    ticket = null;
                    fail(t, "WAIT_TIMEOUT", false);
                    return;
                }
                select(t);
                return;
            }
            if (!active && t >= nextArrival) {
                requestNo++;
                int k = (int) (requestNo % 3);
                session = k == 2 ? null : "c" + id + "-s" + k;
                model = session == null ? MODELS[rnd.nextInt(2)] : MODELS[(id + k) % 2];
                if (session != null) {
                    sessions.add(session);
                }
                excluded.clear();
                attempts = 0;
                active = true;
                select(t);
            }
        }

        private void select(long t) {
            SelectRequest req = SelectRequest.of(null, "openai")
                    .withSession(session)
                    .withModel(model)
                    .withExcluded(excluded);
            WaitTicket w0 = ticket;
            Selection s = roster.select(w0 == null ? req : req.withWaitTicket(w0));
            ticket = null;
            switch (s) {
                case Selection.Acquired a -> {
                    waitDeadline = null;
                    held = a;
                    callStart = t;
                    ScriptedUpstream.Answer ans = upstream.call(a.card().id(), model, clock.instant(), rnd);
                    answer = ans;
                    callEnd = t + Math.max(1, ceilTicks(ans.duration()));
                }
                case Selection.Wait w -> {
                    ticket = w.ticket();
                    if (waitDeadline == null) {
                        // The client's own deadline runs from its first wait, whatever the tickets say.
                        waitDeadline = clock.instant().plus(w.timeout());
                    }
                }
                case Selection.None n -> {
                    waitDeadline = null;
                    fail(t, n.reason().name(), true);
                }
            }
        }

        private void answered(long t) {
            Selection.Acquired a = Objects.requireNonNull(held, "held");
            ScriptedUpstream.Answer ans = Objects.requireNonNull(answer, "answer");
            long account = a.card().id();
            Outcome o = outcome(ans, model);
            ReportResult rr = roster.selector().report(account, o, ttft(ans));
            reports.add(new Report(t, account, model, o, rr));
            upstream.done(account);
            SlotLease lease = a.lease();
            roster.release(lease);
            calls.add(new Call(id, requestNo, account, model, session, a.layer(), a.skipped(), callStart, t, ans));
            held = null;
            answer = null;
            if (ans instanceof ScriptedUpstream.Success) {
                served.incrementAndGet();
                finish(t);
                return;
            }
            attempts++;
            excluded.add(account);
            if (attempts >= ATTEMPTS) {
                fail(t, "UPSTREAM_ERROR", false);
            } else {
                select(t);
            }
        }

        private void fail(long t, String cause, boolean none) {
            errors.add(new ClientError(t, id, model, cause, none));
            finish(t);
        }

        private void finish(long t) {
            active = false;
            nextArrival = t + 1 + rnd.nextInt(4);
        }
    }

    /**
     * The account session {@code session}'s binding names in Redis at {@code now}, read from the raw key
     * (the layout documented on the Redis store: {@code <prefix>{sticky:<h>}:sticky} holding {@code "<account>
     * <expiry ms>"}, h the first 128 bits of the SHA-256 of the binding key {@code <group>:<platform>:<session>},
     * group 0 for a request without group), not through the store's own read.
     */
    static OptionalLong binding(String prefix, String session, Instant now) {
        byte[] h;
        try {
            h = MessageDigest.getInstance("SHA-256").digest(("0:openai:" + session).getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        String key = prefix + "{sticky:" + HexFormat.of().formatHex(h, 0, 16) + "}:sticky";
        Object raw = RedisHarness.shared().command("GET", key);
        if (raw == null) {
            return OptionalLong.empty();
        }
        String[] parts = raw.toString().split(" ", -1);
        return Long.parseLong(parts[1]) > now.toEpochMilli()
                ? OptionalLong.of(Long.parseLong(parts[0]))
                : OptionalLong.empty();
    }

    private static long ceilTicks(Duration d) {
        long n = d.toMillis() / TICK.toMillis();
        return d.toMillis() % TICK.toMillis() == 0 ? n : n + 1;
    }

    /** Reads Redis's own slot counts while the clients run, noting any above an account's concurrency. */
    private static final class Sampler {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicInteger samples = new AtomicInteger();
        private final Thread thread;

        Sampler(Roster roster, Map<Long, Integer> concurrency, List<String> violations) {
            thread = new Thread(() -> {
                while (running.get()) {
                    for (Map.Entry<Long, AccountLoad> e :
                            roster.selectionStore().loads(concurrency.keySet()).entrySet()) {
                        int c = Objects.requireNonNull(concurrency.get(e.getKey()), "concurrency");
                        if (e.getValue().inFlight() > c) {
                            violations.add(
                                    "Redis holds " + e.getValue().inFlight() + " slots on account " + e.getKey());
                        }
                    }
                    samples.incrementAndGet();
                    // Paced, not waiting for anything: the machine's two cores are shared with the clients.
                    LockSupport.parkNanos(5_000_000);
                }
            });
            thread.setDaemon(true);
            thread.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join();
        }

        int samples() {
            return samples.get();
        }
    }
}
