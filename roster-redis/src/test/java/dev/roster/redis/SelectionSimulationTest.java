package dev.roster.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.GroupLink;
import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.config.SelectionConfig;
import dev.roster.core.selection.Outcome;
import dev.roster.core.selection.ReportResult;
import dev.roster.core.selection.SelectRequest;
import dev.roster.core.selection.Selection;
import dev.roster.core.selection.SelectionCounters;
import dev.roster.core.selection.Selector;
import dev.roster.testkit.RedisHarness;
import dev.roster.testkit.SelectionSimulation;
import dev.roster.testkit.SelectionSimulation.LoadSampler;
import dev.roster.testkit.SelectionSimulation.Report;
import dev.roster.testkit.SelectionSimulation.Upstream;
import dev.roster.testkit.SelectionSimulation.Use;
import dev.roster.testkit.fake.InMemoryCandidates;
import dev.roster.testkit.fake.InMemoryUsageLedger;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
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
 * Three selector instances, each with its own Redis connection, serve a few hundred concurrent simulated
 * requests over a pool with mixed priorities, concurrencies, sessions and models, with injected 429 and
 * 529 outcomes. The candidates come from an in-memory source (the snapshot service's stand-in; the full
 * simulation with PostgreSQL and the HTTP server belongs to integration). Asserted: in-flight per account
 * never exceeds its concurrency (seen by the simulated upstream and at Redis), no request reaches an
 * account inside a cooldown some instance already reported, and a session leaves its account only after
 * that account stopped being a candidate.
 */
class SelectionSimulationTest {
    private static final String PREFIX = RedisHarness.shared().keyPrefix(SelectionSimulationTest.class);
    private static final int INSTANCES = 3;
    private static final int WORKERS = 24;
    private static final int REQUESTS_PER_WORKER = 14;
    private static final Duration COOLDOWN = Duration.ofMillis(150);

    private final List<RedisSelectionStore> stores = new ArrayList<>();

    @AfterEach
    void close() {
        stores.forEach(RedisSelectionStore::close);
    }

    private static AccountCard card(long id, int priority, int concurrency, List<String> models) {
        return AccountCard.builder()
                .id(id)
                .name("sim-" + id)
                .platform("openai")
                .type(id % 3 == 0 ? "oauth" : "apikey")
                .status("active")
                .schedulable(true)
                .priority(priority)
                .concurrency(concurrency)
                .supportedModels(models)
                .groups(List.of(new GroupLink(1, 1)))
                .updatedAt(Instant.EPOCH)
                .build();
    }

    @Test
    void threeInstances_concurrentRequests_slotsCooldownsAndSessionsHold() throws Exception {
        InstantSource clock = InstantSource.system();
        List<AccountCard> pool = List.of(
                card(1, 0, 2, List.of()),
                card(2, 0, 3, List.of("m-b")),
                card(3, 0, 4, List.of()),
                card(4, 1, 2, List.of("m-a", "m-b")),
                card(5, 1, 2, List.of("m-b")),
                card(6, 1, 3, List.of()),
                card(7, 2, 5, List.of()),
                card(8, 2, 5, List.of("m-a")));
        Map<Long, Integer> concurrency = new ConcurrentHashMap<>();
        pool.forEach(c -> concurrency.put(c.id(), c.concurrency()));
        InMemoryCandidates candidates = new InMemoryCandidates(clock).put(pool);
        InMemoryUsageLedger usage = new InMemoryUsageLedger();
        // A large sticky queue: sessions then only move when their account stops being a candidate.
        SchedulingConfig scheduling = SchedulingConfig.DEFAULTS.toBuilder()
                .stickySessionMaxWaiting(1000)
                .fallbackMaxWaiting(1000)
                .build();
        SelectionConfig selection =
                new SelectionConfig(Duration.ofMinutes(1), Duration.ofHours(1), COOLDOWN, COOLDOWN, COOLDOWN);
        SelectionCounters counters = new SelectionCounters();
        List<Selector> instances = new ArrayList<>();
        for (int i = 0; i < INSTANCES; i++) {
            RedisSelectionStore s = RedisSelectionStore.connect(
                    RedisConnectionOptions.of(RedisHarness.shared().uri()), TestRedis.RESOURCES, PREFIX, clock);
            stores.add(s);
            instances.add(Selector.newBuilder()
                    .source(candidates)
                    .store(s)
                    .usage(usage)
                    .scheduling(scheduling)
                    .selection(selection)
                    .clock(clock)
                    .metrics(counters)
                    .build());
        }

        List<Report> reports = new CopyOnWriteArrayList<>();
        List<String> violations = new CopyOnWriteArrayList<>();
        Upstream upstream = new Upstream(concurrency, violations);
        Map<String, List<Use>> sessions = new ConcurrentHashMap<>();
        AtomicInteger served = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();

        // Redis's own view, sampled while the requests run.
        LoadSampler sampler =
                LoadSampler.start(() -> stores.get(0).loads(concurrency.keySet()), concurrency, violations);

        CountDownLatch start = new CountDownLatch(1);
        ExecutorService workers = Executors.newFixedThreadPool(WORKERS);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                int worker = w;
                fs.add(workers.submit(() -> {
                    Random rnd = new Random(worker);
                    Selector sel = instances.get(worker % INSTANCES);
                    start.await();
                    for (int i = 0; i < REQUESTS_PER_WORKER; i++) {
                        String session = SelectionSimulation.session(worker, i);
                        String model = SelectionSimulation.model(session, worker, i, rnd);
                        SelectRequest req = SelectRequest.of(1L, "openai")
                                .withSession(session)
                                .withModel(model);
                        Instant begin = clock.instant();
                        Selection s = sel.select(req);
                        while (s instanceof Selection.Wait wait) {
                            LockSupport.parkNanos(300_000); // the simulated client's back-off
                            s = sel.select(req.withWaitTicket(wait.ticket()));
                        }
                        if (!(s instanceof Selection.Acquired a)) {
                            refused.incrementAndGet();
                            continue;
                        }
                        long id = a.card().id();
                        Instant picked = clock.instant();
                        for (Report r : reports) {
                            // A cooldown in Redis before this select began (its report had returned) and still
                            // running after it ended. One whose report was still under way may land after the
                            // acquire, which then rightly ignored it.
                            if (r.account() == id
                                    && r.returned().isBefore(begin)
                                    && r.until().isAfter(picked)) {
                                violations.add("account " + id + " served inside a cooldown until " + r.until());
                            }
                        }
                        if (session != null) {
                            sessions.computeIfAbsent(session, k -> new CopyOnWriteArrayList<>())
                                    .add(new Use(id, begin, picked));
                        }
                        int roll = upstream.call(id, rnd);
                        if (roll < 6) {
                            Instant reportStart = clock.instant();
                            ReportResult rr = sel.report(
                                    id,
                                    roll < 4
                                            ? Outcome.rateLimited(reportStart.plus(COOLDOWN))
                                            : Outcome.of(Outcome.Kind.OVERLOADED));
                            reports.add(new Report(id, reportStart, clock.instant(), rr.until()));
                        }
                        sel.release(a.lease());
                        served.incrementAndGet();
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : fs) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            workers.shutdownNow();
            sampler.stop();
        }

        // A session moves from A only if A was cooling at some point during the select that moved it.
        SelectionSimulation.checkSessionMoves(sessions, reports, violations);
        assertThat(violations).isEmpty();
        assertThat(served.get() + refused.get()).isEqualTo(WORKERS * REQUESTS_PER_WORKER);
        assertThat(served.get()).isGreaterThan(WORKERS * REQUESTS_PER_WORKER / 2);
        assertThat(reports).isNotEmpty();
        assertThat(sampler.samples()).isPositive();
        assertThat(counters.stickyHits()).isPositive();
        // Every slot was handed back.
        assertThat(stores.get(1).loads(concurrency.keySet()).values())
                .allSatisfy(l -> assertThat(l.inFlight()).isZero());
        // The pool was driven to saturation somewhere (otherwise the slot checks would prove little).
        assertThat(upstream.max().entrySet())
                .anySatisfy(e -> assertThat(e.getValue().get()).isEqualTo(concurrency.get(e.getKey())));
    }
}
