package dev.roster.bench.e2e;

import dev.roster.Roster;
import dev.roster.core.outbox.OutboxStats;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongPredicate;

/**
 * Replay throughput. A pool (10,000 accounts in 100 groups at full size) is loaded and projected;
 * then, in one run:
 *
 * <ol>
 *   <li><b>live storm</b>: one writer commits single-account changes (a third each status flips,
 *       priority changes, group rebinds) 100 per transaction, as fast as it can, while Roster replays;
 *       outbox lag is sampled;
 *   <li><b>backlog drain, single-account rows</b>: with no Roster running the writer leaves a backlog
 *       of such rows; a Roster is started and the time until it has applied them all gives the
 *       replayer's capacity independent of the writer's speed;
 *   <li><b>backlog drain, bulk rows</b>: the same with {@code UPDATE ... WHERE id BETWEEN} statements
 *       of 500 accounts each (one {@code account_bulk_changed} row per statement);
 *   <li><b>baseline</b>: {@link SeedReplay} (200 events per 1-s poll, no coalescing) over the same
 *       single-account rows.
 * </ol>
 */
final class ReplayScenario {
    record Size(
            int accounts,
            int groups,
            double stormSeconds,
            int backlogRows,
            int bulkStatements,
            double baselineSeconds,
            int writers) {
        static final Size FULL = new Size(10_000, 100, 20, 20_000, 40, 15, 4);
        static final Size TINY = new Size(400, 12, 1.5, 2_000, 4, 1.5, 2);

        /** The same size with the live storm's writer on {@code n} connections. */
        Size withWriters(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("--writers must be >= 1, got " + n);
            }
            return new Size(accounts, groups, stormSeconds, backlogRows, bulkStatements, baselineSeconds, n);
        }
    }

    /** How often the live storm samples the outbox statistics. */
    static final long SAMPLE_MILLIS = 50;

    static final int PER_TX = 100;
    static final int BULK = 500;

    final Series lag = new Series("outbox lag (ms)");
    final Series pending = new Series("pending rows");
    final Series applied = new Series("rows applied / s");
    /**
     * When the oldest pending row was written, in seconds since the storm started (database clock): a
     * row that stayed pending would show as a flat line; a FIFO drain moves it forward at the
     * replayer's rate divided by the writer's.
     */
    final Series oldestWritten = new Series("oldest pending row written at (s)");

    void run(Size size, Report report, String command) throws Exception {
        Pool pool = new Pool(size.accounts(), size.groups());
        try (Stores s = Stores.start("replay")) {
            pool.insert(s);
            String loadStart = Machine.load();
            // 1. Live storm.
            long stormRows;
            double stormSecs;
            long stormApplied;
            long stormRebuilds;
            double drainAfterStormSecs;
            try (Roster r = s.roster(Configs.replayOnly()).build()) {
                if (!Stores.await(r::ready, 120)) {
                    throw new IllegalStateException("not ready within 120 s");
                }
                long a0 = r.service().replayer().applied();
                long b0 = r.service().replayer().bucketRebuilds();
                AtomicBoolean writing = new AtomicBoolean(true);
                java.time.Instant dbStart = r.admin().outbox().databaseNow();
                long t0 = System.nanoTime();
                Thread sampler = Thread.ofPlatform().name("bench-lag").start(() -> {
                    long lastApplied = a0;
                    long lastT = t0;
                    // The last sample's pending count ends the sampling once the writer stopped; an
                    // unanswered sample counts as "still pending", so a failing read cannot end it early.
                    long lastPending = 1;
                    while (writing.get() || lastPending > 0) {
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(SAMPLE_MILLIS));
                        long now = System.nanoTime();
                        double t = (now - t0) / 1e9;
                        try {
                            OutboxStats st = r.admin().outbox();
                            lastPending = st.pending();
                            lag.add(t, st.lag().toNanos() / 1e6);
                            pending.add(t, st.pending());
                            if (st.oldestPendingAt() != null) {
                                oldestWritten.add(
                                        t,
                                        java.time.Duration.between(dbStart, st.oldestPendingAt())
                                                        .toNanos()
                                                / 1e9);
                            }
                        } catch (RuntimeException e) {
                            // Under load a stats read may fail; the sample is missing from the series and
                            // counted, and the report prints the count.
                            failedSamples.incrementAndGet();
                            lastFailure = e.toString();
                            lastPending = 1;
                        }
                        long ap = r.service().replayer().applied();
                        applied.add(t, (ap - lastApplied) / ((now - lastT) / 1e9));
                        lastApplied = ap;
                        lastT = now;
                        if (t > size.stormSeconds() + 120) {
                            drainCut = true;
                            return;
                        }
                    }
                });
                stormRows =
                        storm(s, pool, Long.MAX_VALUE, size.stormSeconds(), 1, size.writers(), stormRate, id -> false);
                stormSecs = (System.nanoTime() - t0) / 1e9;
                appliedInStorm = r.service().replayer().applied() - a0;
                writing.set(false);
                sampler.join();
                drainAfterStormSecs = (System.nanoTime() - t0) / 1e9 - stormSecs;
                stormApplied = r.service().replayer().applied() - a0;
                stormRebuilds = r.service().replayer().bucketRebuilds() - b0;
            }
            // 2. Backlog of single-account rows, then drain.
            long backlog = storm(s, pool, size.backlogRows(), Double.MAX_VALUE, 2, 1, id -> false);
            var small = Configs.replayOnly();
            small = small.withReplay(small.replay().withBatchSize(500));
            Drain single = drain(s, backlog, small);
            // 2b. The same backlog size drained with replay.batch_size 5,000 (the default since S10).
            long backlog2 = storm(s, pool, size.backlogRows(), Double.MAX_VALUE, 3, 1, id -> false);
            var big = Configs.replayOnly();
            big = big.withReplay(big.replay().withBatchSize(5_000));
            Drain single5k = drain(s, backlog2, big);
            // 3. Backlog of bulk rows, then drain.
            long bulkRows = bulk(s, pool, size.bulkStatements());
            Drain bulk = drain(s, bulkRows, Configs.replayOnly());
            // 4. Baseline: the seed's configuration over the same kind of rows.
            SeedReplay.Result seed = SeedReplay.run(s, size.baselineSeconds());
            String loadEnd = Machine.load();

            double stormWriterRate = stormRows / stormSecs;
            StormFigures storm = StormFigures.of(lag, pending, stormSecs);
            double replayInStorm = appliedInStorm / stormSecs;
            Report.Section sec = report.section("Replay throughput")
                    .goal("backlog drain of single-account rows ≥ 50,000 rows/s beside the seed baseline; live storm"
                            + " at the highest rate the writer reaches: replay lag p99 ≤ 100 ms, max ≤ 250 ms, pending"
                            + " does not grow. Seed ceiling: 200 events per 1-s poll (docs/upstream.md W2).")
                    .command(command)
                    .table(
                            "arm (same run)",
                            "outbox rows",
                            "account changes",
                            "wall",
                            "rows/s applied",
                            "rows/s after the first batch",
                            "account changes/s",
                            "buckets rebuilt per row",
                            "load avg (1/5/15)")
                    .row(
                            "**Roster, backlog drain, single-account rows** (batch 500, coalesced)",
                            Report.n(backlog),
                            Report.n(backlog),
                            Report.f("%.2f s", single.seconds),
                            "**" + Report.n(backlog / single.seconds) + "**",
                            steady(single),
                            Report.n(backlog / single.seconds),
                            Report.f("%.3f", single.rebuilds / (double) backlog),
                            single.load)
                    .row(
                            "Roster, backlog drain, single-account rows, `replay.batch_size` 5,000 (default)",
                            Report.n(backlog2),
                            Report.n(backlog2),
                            Report.f("%.2f s", single5k.seconds),
                            Report.n(backlog2 / single5k.seconds),
                            steady(single5k),
                            Report.n(backlog2 / single5k.seconds),
                            Report.f("%.3f", single5k.rebuilds / (double) backlog2),
                            single5k.load)
                    .row(
                            "Roster, backlog drain, bulk rows of 500",
                            Report.n(bulkRows),
                            Report.n(bulkRows * BULK),
                            Report.f("%.2f s", bulk.seconds),
                            Report.n(bulkRows / bulk.seconds),
                            steady(bulk),
                            "**" + Report.n(bulkRows * BULK / bulk.seconds) + "**",
                            Report.f("%.2f", bulk.rebuilds / (double) bulkRows),
                            bulk.load)
                    .row(
                            "Roster, live storm (writer and replay together)",
                            Report.n(stormApplied),
                            Report.n(stormApplied),
                            Report.f("%.1f s + %.1f s drain", stormSecs, drainAfterStormSecs),
                            Report.n(stormApplied / (stormSecs + drainAfterStormSecs)),
                            "—",
                            Report.n(stormApplied / (stormSecs + drainAfterStormSecs)),
                            Report.f("%.3f", stormRebuilds / (double) Math.max(1, stormApplied)),
                            loadStart)
                    .row(
                            "baseline: seed configuration (200 events / 1-s poll, no coalescing)",
                            Report.n(seed.events()),
                            Report.n(seed.events()),
                            Report.f("%.1f s (%d polls)", seed.seconds(), seed.polls()),
                            Report.n(seed.events() / seed.seconds()),
                            "—",
                            Report.n(seed.events() / seed.seconds()),
                            Report.f("%.2f", seed.bucketRebuilds() / (double) Math.max(1, seed.events())),
                            loadEnd);
            sec.note(Report.f(
                    "Pool: %,d accounts in %d groups over four platforms (%d canonical buckets plus group 0)."
                            + " The replayer's capacity is taken from the backlog drains (Roster started on a backlog"
                            + " left with no replayer running; wall time from `build()` to the last row applied,"
                            + " start-up included; \"after the first batch\" counts the rows left once the first batch was"
                            + " applied over the time they took, which leaves out the model's load and the first publish"
                            + " of every bucket). Full rebuilds triggered by lag or backlog are switched off in this"
                            + " scenario so that rows/s counts rows the replayer applied.",
                    size.accounts(), size.groups(), size.groups() * 10));
            sec.note(Report.f(
                    "**Live storm** (goal: replay lag p99 ≤ 100 ms, max ≤ 250 ms, pending does not grow): the writer,"
                            + " %s on %d connections (100 single-account statements per transaction, each"
                            + " connection on its own accounts), committed %,d outbox rows in %.1f s: **%,.0f rows/s**."
                            + " The replayer applied %,.0f rows/s during the storm. Outbox lag (age of the oldest"
                            + " pending row, %d samples every %d ms while the writer ran): **p50 %.0f ms, p99 %.0f ms,"
                            + " max %.0f ms**. Pending: %,d at the first sample, %,d at the last, least-squares slope"
                            + " over the second half of the storm **%+,.0f rows/s** (%s; \"grows\" means a slope above"
                            + " 1%% of the writer's rate). A FIFO drain predicts a lag slope of max(0, 1 − replayer/writer)"
                            + " = %.2f s/s; the measured least-squares slope of the lag was %.2f s/s. After the writer"
                            + " stopped, the backlog took %s to drain. `replay-lag.png` plots lag, pending and when the"
                            + " oldest pending row was written (a flat line there would be a row left pending)."
                            + " Statistics reads that failed (missing samples): %d%s.",
                    stormRate == 0 ? "unthrottled" : Report.f("paced at %,.0f statements/s", stormRate),
                    size.writers(),
                    stormRows,
                    stormSecs,
                    stormWriterRate,
                    replayInStorm,
                    storm.samples(),
                    SAMPLE_MILLIS,
                    storm.lagP50(),
                    storm.lagP99(),
                    storm.lagMax(),
                    storm.pendingFirst(),
                    storm.pendingLast(),
                    storm.pendingSlope(),
                    storm.pendingSlope() > 0.01 * stormWriterRate ? "**pending grew**" : "pending did not grow",
                    Math.max(0, 1 - replayInStorm / stormWriterRate),
                    storm.lagSlopeSeconds(),
                    drainCut
                            ? Report.f("more than %.1f s (sampling stopped before it drained)", drainAfterStormSecs)
                            : Report.f("%.1f s", drainAfterStormSecs),
                    failedSamples.get(),
                    lastFailure == null ? "" : " (last: " + lastFailure + ")"));
            sec.note(Report.f(
                    "Ratio: Roster's single-account capacity is **%.0f×** the seed baseline measured in the same run"
                            + " (%,.0f vs %,.1f rows/s); the baseline rebuilt %.1f buckets per row against Roster's %.3f.",
                    (backlog / single.seconds) / Math.max(0.001, seed.events() / seed.seconds()),
                    backlog / single.seconds,
                    seed.events() / seed.seconds(),
                    seed.bucketRebuilds() / (double) Math.max(1, seed.events()),
                    single.rebuilds / (double) backlog));
            report.add(sec);
            this.singleRate = backlog / single.seconds;
            this.seedRate = seed.events() / seed.seconds();
        }
    }

    double singleRate;
    double seedRate;
    /** The live storm's target in statements per second over all connections; 0 is unthrottled. */
    double stormRate;

    private long appliedInStorm;
    private final AtomicLong failedSamples = new AtomicLong();
    private volatile String lastFailure;
    /** Whether the sampler stopped before the backlog left by the storm had drained. */
    private volatile boolean drainCut;

    /** The live storm's figures, from the samples taken while the writer ran. */
    record StormFigures(
            int samples,
            double lagP50,
            double lagP99,
            double lagMax,
            long pendingFirst,
            long pendingLast,
            double pendingSlope,
            double lagSlopeSeconds) {
        static StormFigures of(Series lagMs, Series pending, double stormSecs) {
            List<double[]> lags = within(lagMs, 0, stormSecs);
            List<double[]> pend = within(pending, 0, stormSecs);
            double[] sorted = lags.stream().mapToDouble(p -> p[1]).sorted().toArray();
            return new StormFigures(
                    sorted.length,
                    percentile(sorted, 50),
                    percentile(sorted, 99),
                    sorted.length == 0 ? 0 : sorted[sorted.length - 1],
                    pend.isEmpty() ? 0 : Math.round(pend.getFirst()[1]),
                    pend.isEmpty() ? 0 : Math.round(pend.getLast()[1]),
                    slope(within(pending, stormSecs / 2, stormSecs)),
                    slope(lags) / 1000);
        }

        private static List<double[]> within(Series s, double from, double to) {
            synchronized (s) {
                return s.points().stream()
                        .filter(p -> p[0] >= from && p[0] <= to)
                        .toList();
            }
        }

        /** Nearest-rank percentile of sorted values; 0 when there are none. */
        static double percentile(double[] sorted, double pct) {
            if (sorted.length == 0) {
                return 0;
            }
            int rank = (int) Math.ceil(pct / 100 * sorted.length);
            return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
        }

        /** Least-squares slope of y over x; 0 with fewer than two points. */
        static double slope(List<double[]> points) {
            int n = points.size();
            if (n < 2) {
                return 0;
            }
            double mx = 0;
            double my = 0;
            for (double[] p : points) {
                mx += p[0] / n;
                my += p[1] / n;
            }
            double num = 0;
            double den = 0;
            for (double[] p : points) {
                num += (p[0] - mx) * (p[1] - my);
                den += (p[0] - mx) * (p[0] - mx);
            }
            return den == 0 ? 0 : num / den;
        }
    }

    /**
     * One drain: {@code seconds} from {@code build()} to the last row applied (start-up included), and
     * the rate after the first batch had been applied ({@code steadyRowsPerSecond}: the rows left then
     * over the time they took), which leaves out the model's load and the first publish of every bucket.
     */
    private record Drain(double seconds, double steadyRowsPerSecond, long rebuilds, String load) {}

    private static String steady(Drain d) {
        return Double.isNaN(d.steadyRowsPerSecond()) ? "— (one batch)" : Report.n(d.steadyRowsPerSecond());
    }

    /** Starts a Roster on the backlog and measures until it has applied {@code rows} rows. */
    private static Drain drain(Stores s, long rows, dev.roster.core.config.ServiceConfig config) {
        String load = Machine.load();
        long t0 = System.nanoTime();
        try (Roster r = s.roster(config).build()) {
            if (!Stores.await(() -> r.service().replayer().applied() > 0, 600)) {
                throw new IllegalStateException("no row of the backlog applied within 600 s");
            }
            long t1 = System.nanoTime();
            long a1 = r.service().replayer().applied();
            if (!Stores.await(() -> r.service().replayer().applied() >= rows, 600)) {
                throw new IllegalStateException("backlog of " + rows + " rows not applied within 600 s; applied "
                        + r.service().replayer().applied());
            }
            long t2 = System.nanoTime();
            double steady = a1 >= rows || t2 == t1 ? Double.NaN : (rows - a1) / ((t2 - t1) / 1e9);
            return new Drain((t2 - t0) / 1e9, steady, r.service().replayer().bucketRebuilds(), load);
        }
    }

    /**
     * Commits single-account changes, {@link #PER_TX} per transaction, on {@code writers} connections
     * at once (connection {@code k} changes only accounts with {@code (id - 1) % writers == k}, so they
     * never wait for each other's row locks), until {@code maxRows} rows in all or {@code seconds} have
     * passed; accounts for which {@code excluded} holds are left alone. Returns the outbox rows written.
     */
    static long storm(Stores s, Pool pool, long maxRows, double seconds, long seed, int writers, LongPredicate excluded)
            throws Exception {
        return storm(s, pool, maxRows, seconds, seed, writers, 0, excluded);
    }

    /**
     * {@link #storm(Stores, Pool, long, double, long, int, LongPredicate)} paced at {@code rate}
     * statements per second over all connections (each connection starts its transactions at its share
     * of the rate, so the achieved rate can only fall short of it); {@code rate} 0 is unthrottled.
     */
    static long storm(
            Stores s,
            Pool pool,
            long maxRows,
            double seconds,
            long seed,
            int writers,
            double rate,
            LongPredicate excluded)
            throws Exception {
        if (rate < 0) {
            throw new IllegalArgumentException("storm rate must be >= 0 statements/s, got " + rate);
        }
        long txPeriod = rate == 0 ? 0 : (long) (1e9 * PER_TX * writers / rate);
        // Capture writes no row for a statement that changes nothing the scheduler reads (a priority set
        // to the value it has), so the rows are counted in the outbox, not as statements sent.
        long before = s.scalar("SELECT count(*) FROM scheduler_outbox");
        long each = maxRows == Long.MAX_VALUE ? Long.MAX_VALUE : (maxRows + writers - 1) / writers;
        List<Thread> threads = new ArrayList<>();
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int k = 0; k < writers; k++) {
            int slot = k;
            threads.add(Thread.ofPlatform().name("bench-storm-writer-" + k).start(() -> {
                try {
                    stormStatements(s, pool, each, seconds, seed * 1_000 + slot, slot, writers, txPeriod, excluded);
                } catch (SQLException | RuntimeException e) {
                    errors.add(e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        if (!errors.isEmpty()) {
            IllegalStateException e = new IllegalStateException("a storm writer failed: " + errors.getFirst());
            errors.forEach(e::addSuppressed);
            throw e;
        }
        return s.scalar("SELECT count(*) FROM scheduler_outbox") - before;
    }

    private static long stormStatements(
            Stores s,
            Pool pool,
            long maxRows,
            double seconds,
            long seed,
            int slot,
            int writers,
            long txPeriodNanos,
            LongPredicate excluded)
            throws SQLException {
        SplittableRandom rnd = new SplittableRandom(seed);
        long end = seconds == Double.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + (long) (seconds * 1e9);
        AtomicLong prio = new AtomicLong(seed * 1_000_000_000L);
        long rows = 0;
        try (Connection c = s.connect();
                PreparedStatement priority = c.prepareStatement("UPDATE accounts SET priority = ? WHERE id = ?");
                PreparedStatement status = c.prepareStatement(
                        "UPDATE accounts SET status = CASE WHEN status = 'active' THEN 'disabled' ELSE 'active' END"
                                + " WHERE id = ?");
                PreparedStatement rebind = c.prepareStatement("UPDATE account_groups SET group_id = CASE WHEN"
                        + " group_id = ? THEN ? ELSE ? END WHERE account_id = ? AND group_id IN (?, ?)")) {
            c.setAutoCommit(false);
            long nextTx = System.nanoTime();
            while (rows < maxRows && System.nanoTime() < end) {
                if (txPeriodNanos > 0) {
                    long wait;
                    while ((wait = nextTx - System.nanoTime()) > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    nextTx += txPeriodNanos;
                }
                for (int k = 0; k < PER_TX; k++) {
                    long id = pick(rnd, pool, slot, writers, excluded);
                    switch (k % 3) {
                        case 0 -> {
                            priority.setInt(1, (int) (prio.incrementAndGet() % 1_000_000));
                            priority.setLong(2, id);
                            priority.addBatch();
                        }
                        case 1 -> {
                            status.setLong(1, id);
                            status.addBatch();
                        }
                        default -> {
                            long a = pool.groupAt(id, 0);
                            long b = pool.groupAt(id, 2);
                            rebind.setLong(1, a);
                            rebind.setLong(2, b);
                            rebind.setLong(3, a);
                            rebind.setLong(4, id);
                            rebind.setLong(5, a);
                            rebind.setLong(6, b);
                            rebind.addBatch();
                        }
                    }
                }
                priority.executeBatch();
                status.executeBatch();
                rebind.executeBatch();
                c.commit();
                rows += PER_TX;
            }
        }
        return rows;
    }

    /** A random account of connection {@code slot}'s share that {@code excluded} does not hold for. */
    private static long pick(SplittableRandom rnd, Pool pool, int slot, int writers, LongPredicate excluded) {
        int share = (pool.accounts() - slot + writers - 1) / writers;
        for (int tries = 0; tries < 1_000; tries++) {
            long id = 1 + slot + (long) writers * rnd.nextInt(share);
            if (!excluded.test(id)) {
                return id;
            }
        }
        throw new IllegalStateException("no account left for storm connection " + slot + " of " + writers);
    }

    /** Commits {@code statements} bulk updates of {@link #BULK} accounts each; returns the rows written. */
    static long bulk(Stores s, Pool pool, int statements) throws SQLException {
        try (Connection c = s.connect();
                PreparedStatement ps = c.prepareStatement(
                        "UPDATE accounts SET priority = (priority + 1) % 1000000 WHERE id BETWEEN ? AND ?")) {
            for (int i = 0; i < statements; i++) {
                long from = 1 + ((long) i * BULK) % Math.max(1, pool.accounts() - BULK + 1);
                ps.setLong(1, from);
                ps.setLong(2, from + BULK - 1);
                ps.executeUpdate();
            }
        }
        return s.scalar("SELECT count(*) FROM scheduler_outbox WHERE event_type = 'account_bulk_changed'");
    }
}
