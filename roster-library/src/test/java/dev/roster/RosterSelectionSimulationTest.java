package dev.roster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.config.SelectionConfig;
import dev.roster.core.selection.Outcome;
import dev.roster.core.selection.ReportResult;
import dev.roster.core.selection.SelectRequest;
import dev.roster.core.selection.Selection;
import dev.roster.testkit.RedisHarness;
import dev.roster.testkit.SelectionSimulation;
import dev.roster.testkit.SelectionSimulation.LoadSampler;
import dev.roster.testkit.SelectionSimulation.Report;
import dev.roster.testkit.SelectionSimulation.Upstream;
import dev.roster.testkit.SelectionSimulation.Use;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The selection simulation: three {@link Roster} instances on one real PostgreSQL and one real Redis serve a
 * few hundred concurrent simulated requests over a pool with mixed priorities, concurrencies, sessions and
 * models; the simulated upstream answers 429 and 529 now and then, which the client reports. Asserted:
 *
 * <ul>
 *   <li>in-flight per account never exceeds its concurrency, seen by the simulated upstream and sampled at
 *       Redis while the requests run;
 *   <li>no request is sent to an account inside a cooldown that any instance reported before the request's
 *       select began (so a session moves on at the first request after its account stopped being a
 *       candidate);
 *   <li>a session stays on its account while that account stays a candidate (it leaves only for an
 *       account that was cooling down at some point while the leaving select ran);
 *   <li>a request placed by the load-aware layer (no sticky account) lands on a lower-priority account
 *       only while every higher-priority account serving its model was, or may have been, saturated or
 *       cooling down: slots held and places queued are counted over conservative intervals (from the
 *       holder's select start to its release's end), so a race can only excuse, never accuse.
 * </ul>
 *
 * Every instance's near cache, replay and write-behind run as in production; the cooldowns are short
 * (150 ms) so accounts leave and rejoin many times within the run, also through the snapshots (the
 * reports reach PostgreSQL and come back through capture and replay).
 */
class RosterSelectionSimulationTest {
    private static final int INSTANCES = 3;
    private static final int WORKERS = 24;
    private static final int REQUESTS_PER_WORKER = 14;
    private static final Duration COOLDOWN = Duration.ofMillis(150);

    private final List<Roster> rosters = new ArrayList<>();

    @AfterEach
    void close() {
        rosters.forEach(Roster::close);
    }

    record Account(long id, int priority, int concurrency, Set<String> models) {
        boolean serves(String model) {
            return model == null || models.isEmpty() || models.contains(model);
        }
    }

    /** A conservative interval during which a request may have held a slot or a queue place. */
    record Hold(long start, long end) {}

    record Placement(
            long account,
            String model,
            Selection.Layer layer,
            long beginNanos,
            long pickedNanos,
            Instant begin,
            Instant picked) {}

    @Test
    void threeRosters_fewHundredRequests_slotsCooldownsSessionsAndPriorityHold() throws Exception {
        Servers servers = new Servers(RosterSelectionSimulationTest.class, "sim");
        RedisHarness.shared().start();
        // name, priority, concurrency, models (model_mapping keys; none = every model)
        servers.sql("INSERT INTO accounts (name, platform, type, priority, concurrency, credentials) VALUES"
                + " ('p0-a', 'openai', 'apikey', 0, 2, '{}'),"
                + " ('p0-b', 'openai', 'oauth',  0, 3, '{\"model_mapping\": {\"m-b\": \"x\"}}'),"
                + " ('p0-c', 'openai', 'apikey', 0, 4, '{}'),"
                + " ('p1-a', 'openai', 'apikey', 1, 2, '{\"model_mapping\": {\"m-a\": \"x\", \"m-b\": \"y\"}}'),"
                + " ('p1-b', 'openai', 'oauth',  1, 2, '{\"model_mapping\": {\"m-b\": \"x\"}}'),"
                + " ('p1-c', 'openai', 'apikey', 1, 3, '{}'),"
                + " ('p2-a', 'openai', 'apikey', 2, 5, '{}'),"
                + " ('p2-b', 'openai', 'apikey', 2, 5, '{\"model_mapping\": {\"m-a\": \"x\"}}')");
        Map<Long, Account> pool = accounts(servers);
        assertThat(pool).hasSize(8);

        // Large queues: a session then leaves its account only when the account stops being a candidate.
        SchedulingConfig scheduling = SchedulingConfig.DEFAULTS.toBuilder()
                .stickySessionMaxWaiting(1000)
                .fallbackMaxWaiting(1000)
                .build();
        SelectionConfig selection =
                new SelectionConfig(Duration.ofMinutes(1), Duration.ofHours(1), COOLDOWN, COOLDOWN, COOLDOWN);
        for (int i = 0; i < INSTANCES; i++) {
            rosters.add(servers.roster()
                    .config(Servers.CONFIG.withScheduling(scheduling).withSelection(selection))
                    .build());
        }
        for (Roster r : rosters) {
            await().until(r::ready);
            await().until(() -> r.list(null, "openai", false).accounts().size() == pool.size());
        }

        Map<Long, List<Hold>> holds = new ConcurrentHashMap<>();
        pool.keySet().forEach(id -> holds.put(id, new CopyOnWriteArrayList<>()));
        List<Report> reports = new CopyOnWriteArrayList<>();
        List<Placement> placements = new CopyOnWriteArrayList<>();
        List<String> violations = new CopyOnWriteArrayList<>();
        Map<String, List<Use>> sessions = new ConcurrentHashMap<>();
        AtomicInteger served = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger waits = new AtomicInteger();

        Map<Long, Integer> concurrency = new HashMap<>();
        pool.values().forEach(a -> concurrency.put(a.id(), a.concurrency()));
        Upstream upstream = new Upstream(concurrency, violations);
        // Redis's own view, sampled while the requests run.
        LoadSampler sampler =
                LoadSampler.start(() -> rosters.get(0).selectionStore().loads(pool.keySet()), concurrency, violations);

        CountDownLatch start = new CountDownLatch(1);
        ExecutorService workers = Executors.newFixedThreadPool(WORKERS);
        long t0 = System.nanoTime();
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                int worker = w;
                fs.add(workers.submit(() -> {
                    Random rnd = new Random(worker);
                    Roster roster = rosters.get(worker % INSTANCES);
                    start.await();
                    for (int i = 0; i < REQUESTS_PER_WORKER; i++) {
                        String session = SelectionSimulation.session(worker, i);
                        String model = SelectionSimulation.model(session, worker, i, rnd);
                        SelectRequest req = SelectRequest.of(null, "openai")
                                .withSession(session)
                                .withModel(model);
                        long beginNanos = System.nanoTime();
                        Instant begin = Instant.now();
                        Selection s = roster.select(req);
                        while (s instanceof Selection.Wait wait) {
                            waits.incrementAndGet();
                            long waitStart = beginNanos;
                            LockSupport.parkNanos(300_000); // the simulated client's back-off
                            beginNanos = System.nanoTime();
                            begin = Instant.now();
                            s = roster.select(req.withWaitTicket(wait.ticket()));
                            // The queue place counted in the load until the retry handed it back.
                            holds.get(wait.accountId()).add(new Hold(waitStart, System.nanoTime()));
                        }
                        if (!(s instanceof Selection.Acquired a)) {
                            refused.incrementAndGet();
                            continue;
                        }
                        long id = a.card().id();
                        long pickedNanos = System.nanoTime();
                        Instant picked = Instant.now();
                        placements.add(new Placement(id, model, a.layer(), beginNanos, pickedNanos, begin, picked));
                        if (session != null) {
                            sessions.computeIfAbsent(session, k -> new CopyOnWriteArrayList<>())
                                    .add(new Use(id, begin, picked));
                        }
                        int roll = upstream.call(id, rnd);
                        if (roll < 6) {
                            Instant reportStart = Instant.now();
                            ReportResult rr = roster.report(
                                    id,
                                    roll < 4
                                            ? Outcome.ofStatus(429, reportStart.plus(COOLDOWN))
                                            : Outcome.ofStatus(529, null));
                            reports.add(new Report(id, reportStart, Instant.now(), rr.until()));
                        }
                        roster.release(a.lease());
                        holds.get(id).add(new Hold(beginNanos, System.nanoTime()));
                        served.incrementAndGet();
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : fs) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            workers.shutdownNow();
            sampler.stop();
        }
        long elapsedMs = (System.nanoTime() - t0) / 1_000_000;

        // No request went to an account inside a cooldown stored (report returned) before its select began.
        for (Placement p : placements) {
            for (Report r : reports) {
                if (r.account() == p.account()
                        && r.returned().isBefore(p.begin())
                        && r.until().isAfter(p.picked())) {
                    violations.add("account " + p.account() + " served at " + p.picked() + " inside a cooldown until "
                            + r.until() + " reported at " + r.returned());
                }
            }
        }

        // A session moves from A only if A was cooling at some point during the select that moved it.
        SelectionSimulation.checkSessionMoves(sessions, reports, violations);

        // Priority: a lower-priority account only while every higher-priority one was (maybe) full or cooling.
        int priorityChecks = 0;
        List<Placement> loadAware = placements.stream()
                .filter(p -> p.layer() == Selection.Layer.LOAD_AWARE)
                .toList();
        for (Placement p : loadAware) {
            Account chosen = pool.get(p.account());
            for (Account h : pool.values()) {
                if (h.priority() >= chosen.priority() || !h.serves(p.model())) {
                    continue;
                }
                priorityChecks++;
                boolean cooling = reports.stream()
                        .anyMatch(r -> r.account() == h.id()
                                && !r.start().isAfter(p.picked())
                                && !r.until().isBefore(p.begin()));
                if (!cooling && maxOverlap(holds.get(h.id()), p.beginNanos(), p.pickedNanos()) < h.concurrency()) {
                    violations.add("account " + p.account() + " (priority " + chosen.priority() + ") chosen while "
                            + h.id() + " (priority " + h.priority() + ") had room");
                }
            }
        }

        assertThat(violations).isEmpty();
        assertThat(served.get() + refused.get()).isEqualTo(WORKERS * REQUESTS_PER_WORKER);
        assertThat(served.get()).isGreaterThan(WORKERS * REQUESTS_PER_WORKER / 2);
        assertThat(reports).isNotEmpty();
        assertThat(sampler.samples()).isPositive();
        assertThat(priorityChecks).isPositive();
        long stickyHits = rosters.stream()
                .mapToLong(r -> r.selectionCounters().stickyHits())
                .sum();
        assertThat(stickyHits).isPositive();
        // Every slot was handed back.
        assertThat(rosters.get(1).selectionStore().loads(pool.keySet()).values())
                .allSatisfy(l -> assertThat(l.inFlight()).isZero());
        // The pool was driven to saturation somewhere (otherwise the slot checks would prove little).
        assertThat(upstream.max().entrySet())
                .anySatisfy(e -> assertThat(e.getValue().get()).isEqualTo(concurrency.get(e.getKey())));
        // Some reported cooldowns reached PostgreSQL (and so the snapshots).
        assertThat(servers.ids("SELECT id FROM accounts WHERE rate_limit_reset_at IS NOT NULL"
                        + " OR overload_until IS NOT NULL"))
                .isNotEmpty();
        System.out.printf(
                "selection simulation: %d served, %d refused, %d waits, %d reports, %d load-aware placements"
                        + " (%d priority checks), %d sticky hits, %d Redis samples, %d ms%n",
                served.get(),
                refused.get(),
                waits.get(),
                reports.size(),
                loadAware.size(),
                priorityChecks,
                stickyHits,
                sampler.samples(),
                elapsedMs);
    }

    /** The most intervals that may have overlapped at one instant of {@code [from, to]}. */
    private static int maxOverlap(List<Hold> holds, long from, long to) {
        List<Hold> inWindow =
                holds.stream().filter(h -> h.start() <= to && h.end() >= from).toList();
        int max = 0;
        List<Long> points = new ArrayList<>();
        points.add(from);
        inWindow.forEach(h -> {
            if (h.start() >= from) {
                points.add(h.start());
            }
        });
        for (long t : points) {
            int n = 0;
            for (Hold h : inWindow) {
                if (h.start() <= t && h.end() >= t) {
                    n++;
                }
            }
            max = Math.max(max, n);
        }
        return max;
    }

    private static Map<Long, Account> accounts(Servers servers) {
        Map<Long, Account> out = new HashMap<>();
        try (Connection c = servers.db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT id, priority, concurrency,"
                        + " ARRAY(SELECT jsonb_object_keys(COALESCE(credentials->'model_mapping', '{}'::jsonb)))"
                        + " FROM accounts")) {
            while (rs.next()) {
                String[] models = (String[]) rs.getArray(4).getArray();
                out.put(rs.getLong(1), new Account(rs.getLong(1), rs.getInt(2), rs.getInt(3), Set.of(models)));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        return out;
    }
}
