package dev.roster.bench.e2e;

import dev.roster.Roster;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.service.ListResult;
import dev.roster.testkit.Freshness;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * Freshness, commit to visible, while the replayer is loaded: three instances on a large pool
 * (100,000 accounts in 1,000 groups at full size), a writer committing one change per {@code
 * 1/changesPerSecond} to the accounts of one openai group (a new, growing priority, autocommit), each
 * instance reading that group's openai bucket at {@code readsPerSecond}. One run, three windows:
 *
 * <ol>
 *   <li><b>quiet</b>: nothing else happens;
 *   <li><b>full rebuild</b>: a full rebuild is requested on the lease holder at the window's start;
 *       the window ends when it completes;
 *   <li><b>storm</b>: the replay scenario's writer runs unthrottled on several connections, on every
 *       account except the probed group's.
 * </ol>
 *
 * A change belongs to the window in which it was sent; its latency runs from just before the UPDATE
 * is sent to the first read of an instance showing it. The service runs without the automatic full
 * rebuilds (lag, backlog, interval), so the only rebuild in the run is the requested one.
 */
final class FreshnessUnderLoadScenario {
    record Size(
            int accounts,
            int groups,
            int instances,
            int changesPerSecond,
            int readsPerSecond,
            double quietSeconds,
            double stormSeconds,
            int stormWriters) {
        static final Size FULL = new Size(100_000, 1_000, 3, 20, 1_000, 20, 20, 4);
        static final Size TINY = new Size(2_000, 40, 3, 20, 200, 2, 2, 2);

        Size withWriters(int n) {
            return new Size(
                    accounts, groups, instances, changesPerSecond, readsPerSecond, quietSeconds, stormSeconds, n);
        }
    }

    /** The probed group: the first openai group (group {@code g} is on platform {@code (g - 1) % 4}). */
    static final long GROUP = 2;

    /** One change seen by one instance: when it was sent and how long until it was visible. */
    private record Seen(int instance, long sentNanos, long latencyNanos) {}

    final List<Histogram> histograms = new ArrayList<>();
    /** The storm's target in statements per second over all connections; 0 is unthrottled. */
    double stormRate;

    void run(Size size, Report report, String command) throws Exception {
        Pool pool = new Pool(size.accounts(), size.groups());
        // The accounts whose primary group is GROUP: openai accounts i with ((i - 1) / 4) % gpp == 0.
        long stride = 4L * pool.groupsPerPlatform();
        List<Long> ids = new ArrayList<>();
        for (long i = 2; i <= size.accounts(); i += stride) {
            ids.add(i);
        }
        ServiceConfig config = FreshnessScenario.CONFIG.withScheduling(
                Configs.scheduling(FreshnessScenario.CONFIG.scheduling(), 0, 0, 0, 0));
        try (Stores s = Stores.start("freshness-load")) {
            pool.insert(s);
            List<Roster> rosters = new ArrayList<>();
            try {
                for (int i = 0; i < size.instances(); i++) {
                    rosters.add(s.roster(config).build());
                }
                for (Roster r : rosters) {
                    if (!Stores.await(
                            () -> r.ready() && r.list(GROUP, "openai", false).source() == ListResult.Source.NEAR_CACHE,
                            600)) {
                        throw new IllegalStateException("instance not warm within 600 s");
                    }
                }
                Roster holder = rosters.stream()
                        .filter(r -> r.service().isReplayer())
                        .findFirst()
                        .orElseThrow(() -> new IllegalStateException("no instance holds the replayer lease"));
                List<ConcurrentLinkedQueue<Freshness.Change>> inbox = new ArrayList<>();
                ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
                List<AtomicLong> missing = new ArrayList<>();
                AtomicBoolean writing = new AtomicBoolean(true);
                List<Thread> readers = new ArrayList<>();
                for (int i = 0; i < rosters.size(); i++) {
                    Roster r = rosters.get(i);
                    int instance = i;
                    ConcurrentLinkedQueue<Freshness.Change> q = new ConcurrentLinkedQueue<>();
                    AtomicLong miss = new AtomicLong();
                    inbox.add(q);
                    missing.add(miss);
                    readers.add(Thread.ofPlatform()
                            .name("bench-freshness-load-reader")
                            .start(() -> Freshness.read(
                                    () -> r.list(GROUP, "openai", false).accounts(),
                                    q,
                                    (c, at) -> seen.add(new Seen(instance, c.sentNanos(), at - c.sentNanos())),
                                    new AtomicLong(),
                                    miss,
                                    writing,
                                    size.readsPerSecond(),
                                    true)));
                }
                Writer writer = new Writer(s, ids, inbox, size.changesPerSecond());
                Thread w =
                        Thread.ofPlatform().name("bench-freshness-load-writer").start(writer);
                String loadQuiet = Machine.load();
                long quietStart = System.nanoTime();
                park(size.quietSeconds());
                String loadRebuild = Machine.load();
                long rebuildStart = System.nanoTime();
                holder.admin().rebuildAll().get(600, TimeUnit.SECONDS);
                long rebuildEnd = System.nanoTime();
                String loadStorm = Machine.load();
                long stormStart = System.nanoTime();
                long stormRows = ReplayScenario.storm(
                        s,
                        pool,
                        Long.MAX_VALUE,
                        size.stormSeconds(),
                        7,
                        size.stormWriters(),
                        stormRate,
                        id -> (id - 2) % stride == 0);
                long stormEnd = System.nanoTime();
                writer.stop();
                w.join();
                writing.set(false);
                for (Thread t : readers) {
                    t.join();
                }
                String loadEnd = Machine.load();
                if (writer.error != null) {
                    throw new IllegalStateException("the freshness writer failed: " + writer.error, writer.error);
                }

                Histogram quiet = histogram();
                Histogram rebuild = histogram();
                Histogram storm = histogram();
                Histogram all = histogram();
                for (int i = 0; i < rosters.size(); i++) {
                    histograms.add(histogram());
                }
                for (Seen x : seen) {
                    long v = Math.max(0, x.latencyNanos());
                    all.recordValue(v);
                    histograms.get(x.instance()).recordValue(v);
                    if (x.sentNanos() >= stormStart && x.sentNanos() < stormEnd) {
                        storm.recordValue(v);
                    } else if (x.sentNanos() >= rebuildStart && x.sentNanos() < rebuildEnd) {
                        rebuild.recordValue(v);
                    } else if (x.sentNanos() >= quietStart && x.sentNanos() < rebuildStart) {
                        quiet.recordValue(v);
                    }
                }
                long notSeen = missing.stream().mapToLong(AtomicLong::get).sum();
                Report.Section sec = report.section("Freshness under a full rebuild and a storm")
                        .goal("3 instances, 20 changes/s: p99 ≤ 15 ms, also over a window that contains a full"
                                + " rebuild of 100,000 accounts; p99 ≤ 100 ms for changes committed during the storm.")
                        .command(command)
                        .table(
                                "window (changes sent in it)",
                                "length",
                                "changes seen (all instances)",
                                "p50",
                                "p99",
                                "max",
                                "load avg at its start (1/5/15)")
                        .row(
                                "quiet",
                                Report.f("%.1f s", (rebuildStart - quietStart) / 1e9),
                                Report.n(quiet.getTotalCount()),
                                Report.ms(quiet.getValueAtPercentile(50)),
                                Report.ms(quiet.getValueAtPercentile(99)),
                                Report.ms(quiet.getMaxValue()),
                                loadQuiet)
                        .row(
                                "**full rebuild** (requested at the start, window ends when it completes)",
                                Report.f("%.1f s", (rebuildEnd - rebuildStart) / 1e9),
                                Report.n(rebuild.getTotalCount()),
                                Report.ms(rebuild.getValueAtPercentile(50)),
                                "**" + Report.ms(rebuild.getValueAtPercentile(99)) + "**",
                                Report.ms(rebuild.getMaxValue()),
                                loadRebuild)
                        .row(
                                Report.f(
                                        "**storm** (%d writer connections, %s, %,.0f rows/s)",
                                        size.stormWriters(),
                                        stormRate == 0 ? "unthrottled" : Report.f("paced at %,.0f/s", stormRate),
                                        stormRows / ((stormEnd - stormStart) / 1e9)),
                                Report.f("%.1f s", (stormEnd - stormStart) / 1e9),
                                Report.n(storm.getTotalCount()),
                                Report.ms(storm.getValueAtPercentile(50)),
                                "**" + Report.ms(storm.getValueAtPercentile(99)) + "**",
                                Report.ms(storm.getMaxValue()),
                                loadStorm)
                        .row(
                                "whole run",
                                Report.f("%.1f s", (stormEnd - quietStart) / 1e9),
                                Report.n(all.getTotalCount()),
                                Report.ms(all.getValueAtPercentile(50)),
                                "**" + Report.ms(all.getValueAtPercentile(99)) + "**",
                                Report.ms(all.getMaxValue()),
                                loadEnd + " (at the end)");
                sec.note(Report.f(
                        "Pool: %,d accounts in %,d groups; the probed bucket is group %d's openai bucket (%d accounts"
                                + " changed in turn). The writer committed %,d changes (%.1f/s, target %d/s); each of %d"
                                + " instances read the bucket at a target of %d reads/s. Changes not seen within 10 s of"
                                + " the end: %d. During the storm window %,d outbox rows were written (the storm on accounts"
                                + " outside the probed group, plus the probe writer's own)."
                                + " Rebuild: %.2f s on the lease holder. Goals: p99 ≤ 15 ms over the window with the"
                                + " rebuild: %s; p99 ≤ 100 ms during the storm: %s. Per-instance CDF:"
                                + " `freshness-load-cdf.png`.",
                        size.accounts(),
                        size.groups(),
                        GROUP,
                        ids.size(),
                        writer.sent.get(),
                        writer.sent.get() / ((stormEnd - quietStart) / 1e9),
                        size.changesPerSecond(),
                        size.instances(),
                        size.readsPerSecond(),
                        notSeen,
                        stormRows,
                        (rebuildEnd - rebuildStart) / 1e9,
                        rebuild.getTotalCount() == 0
                                ? "no change sent in the window"
                                : rebuild.getValueAtPercentile(99) <= 15e6 ? "met" : "**missed**",
                        storm.getTotalCount() == 0
                                ? "no change sent in the window"
                                : storm.getValueAtPercentile(99) <= 100e6 ? "met" : "**missed**"));
                report.add(sec);
            } finally {
                for (Roster r : rosters) {
                    r.close();
                }
            }
        }
    }

    private static Histogram histogram() {
        return new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    }

    private static void park(double seconds) {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long wait;
        while ((wait = end - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
        }
    }

    /** The paced writer: one change per period until stopped, each sent to every instance's inbox. */
    private static final class Writer implements Runnable {
        private final Stores stores;
        private final List<Long> ids;
        private final List<ConcurrentLinkedQueue<Freshness.Change>> inbox;
        private final long period;
        private final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicLong sent = new AtomicLong();
        volatile Exception error;

        Writer(Stores stores, List<Long> ids, List<ConcurrentLinkedQueue<Freshness.Change>> inbox, int perSecond) {
            this.stores = stores;
            this.ids = ids;
            this.inbox = inbox;
            this.period = TimeUnit.SECONDS.toNanos(1) / perSecond;
        }

        void stop() {
            running.set(false);
        }

        @Override
        public void run() {
            try (Connection c = stores.connect();
                    PreparedStatement ps = c.prepareStatement("UPDATE accounts SET priority = ? WHERE id = ?")) {
                long next = System.nanoTime();
                for (int i = 0; running.get(); i++) {
                    long wait;
                    while ((wait = next - System.nanoTime()) > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    next += period;
                    long id = ids.get(i % ids.size());
                    int priority = 1_000 + i;
                    ps.setInt(1, priority);
                    ps.setLong(2, id);
                    long sentAt = System.nanoTime();
                    ps.executeUpdate(); // autocommit: the statement is the commit
                    sent.incrementAndGet();
                    Freshness.Change ch = new Freshness.Change(id, priority, sentAt);
                    for (ConcurrentLinkedQueue<Freshness.Change> q : inbox) {
                        q.add(ch);
                    }
                }
            } catch (Exception e) {
                error = e;
            }
        }
    }
}
