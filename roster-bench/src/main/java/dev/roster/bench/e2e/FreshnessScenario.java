package dev.roster.bench.e2e;

import dev.roster.Roster;
import dev.roster.core.AccountCard;
import dev.roster.core.config.NearCacheConfig;
import dev.roster.core.config.ProjectionConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.service.ListResult;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * Freshness, commit to visible: the method of the library's harness ({@code roster-library}
 * {@code Freshness}, issue 5) on the embedded default. Three Roster instances in this JVM, the same
 * settings as that harness (lease 3 s / renew 500 ms, {@code near_cache.check_interval} 200 ms); a
 * writer commits one change per {@code 1/changesPerSecond} (a new, unique priority on the next of the
 * 200 openai accounts, autocommit); each instance's reader calls {@code list(null, "openai", false)} at
 * {@code readsPerSecond} and on each read checks which committed changes it shows. Latency: from just
 * before the UPDATE is sent to the first read of that instance showing it.
 */
final class FreshnessScenario {
    record Size(int instances, int changesPerSecond, int readsPerSecond, double seconds) {
        static final Size FULL = new Size(3, 20, 1_000, 60);
        static final Size TINY = new Size(3, 20, 200, 1.5);
    }

    static final ServiceConfig CONFIG = ServiceConfig.DEFAULTS
            .withProjection(new ProjectionConfig(Duration.ofSeconds(3), Duration.ofMillis(500), Duration.ofSeconds(60)))
            .withNearCache(NearCacheConfig.DEFAULTS.withTiming(Duration.ofSeconds(5), Duration.ofMillis(200)));

    private record Change(long accountId, int priority, long sentNanos) {}

    final List<Histogram> histograms = new ArrayList<>();

    void run(Size size, Report report, String command) throws Exception {
        // 800 accounts over four platforms: 200 openai accounts, all in group 0's openai bucket.
        Pool pool = new Pool(800, 12);
        try (Stores s = Stores.start("freshness")) {
            pool.insert(s);
            List<Long> ids = new ArrayList<>();
            for (long i = 2; i <= 800; i += 4) {
                ids.add(i);
            }
            List<Roster> rosters = new ArrayList<>();
            try {
                for (int i = 0; i < size.instances(); i++) {
                    rosters.add(s.roster(CONFIG).build());
                }
                for (Roster r : rosters) {
                    if (!Stores.await(
                            () -> r.ready() && r.list(null, "openai", false).source() == ListResult.Source.NEAR_CACHE,
                            120)) {
                        throw new IllegalStateException("instance not warm within 120 s");
                    }
                }
                String load = Machine.load();
                List<ConcurrentLinkedQueue<Change>> inbox = new ArrayList<>();
                List<AtomicLong> reads = new ArrayList<>();
                List<AtomicLong> missing = new ArrayList<>();
                AtomicBoolean writing = new AtomicBoolean(true);
                List<Thread> readers = new ArrayList<>();
                for (Roster r : rosters) {
                    ConcurrentLinkedQueue<Change> q = new ConcurrentLinkedQueue<>();
                    Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(30), 3);
                    AtomicLong n = new AtomicLong();
                    AtomicLong miss = new AtomicLong();
                    inbox.add(q);
                    histograms.add(h);
                    reads.add(n);
                    missing.add(miss);
                    readers.add(Thread.ofPlatform()
                            .name("bench-freshness-reader")
                            .start(() -> read(r, q, h, n, miss, writing, size.readsPerSecond())));
                }
                long writeStart = System.nanoTime();
                long changes = write(s, ids, inbox, size.changesPerSecond(), size.seconds());
                double writeSecs = (System.nanoTime() - writeStart) / 1e9;
                writing.set(false);
                for (Thread t : readers) {
                    t.join();
                }
                Report.Section sec = report.section("Freshness: commit to visible on three instances")
                        .goal("p99 ≤ 15 ms at 20 changes/s while each instance serves 1,000 reads/s.")
                        .command(command)
                        .table(
                                "instance",
                                "reads",
                                "changes seen",
                                "p50",
                                "p99",
                                "max",
                                "not seen within 10 s",
                                "load avg (1/5/15)");
                Histogram all = new Histogram(TimeUnit.SECONDS.toNanos(30), 3);
                for (int i = 0; i < histograms.size(); i++) {
                    Histogram h = histograms.get(i);
                    all.add(h);
                    sec.row(
                            i + 1,
                            Report.n(reads.get(i).get()),
                            Report.n(h.getTotalCount()),
                            Report.ms(h.getValueAtPercentile(50)),
                            "**" + Report.ms(h.getValueAtPercentile(99)) + "**",
                            Report.ms(h.getMaxValue()),
                            missing.get(i).get(),
                            load);
                }
                sec.row(
                        "all",
                        "",
                        Report.n(all.getTotalCount()),
                        Report.ms(all.getValueAtPercentile(50)),
                        "**" + Report.ms(all.getValueAtPercentile(99)) + "**",
                        Report.ms(all.getMaxValue()),
                        "",
                        Machine.load());
                sec.note(Report.f(
                        "%,d changes committed in %.1f s (%.1f/s; target %d/s); target %d reads/s per instance. Goal p99 ≤ 15 ms: %s."
                                + " CDF: `freshness-cdf.png`.",
                        changes,
                        writeSecs,
                        changes / writeSecs,
                        size.changesPerSecond(),
                        size.readsPerSecond(),
                        all.getValueAtPercentile(99) <= 15e6 ? "met" : "**missed**"));
                report.add(sec);
                this.p99 = all.getValueAtPercentile(99);
            } finally {
                for (Roster r : rosters) {
                    r.close();
                }
            }
        }
    }

    double p99;

    private static long write(
            Stores s, List<Long> ids, List<ConcurrentLinkedQueue<Change>> inbox, int perSecond, double seconds)
            throws Exception {
        long period = TimeUnit.SECONDS.toNanos(1) / perSecond;
        long total = (long) (perSecond * seconds);
        try (Connection c = s.connect();
                PreparedStatement ps = c.prepareStatement("UPDATE accounts SET priority = ? WHERE id = ?")) {
            long next = System.nanoTime();
            for (int i = 0; i < total; i++) {
                pace(next);
                next += period;
                long id = ids.get(i % ids.size());
                int priority = 1_000 + i;
                ps.setInt(1, priority);
                ps.setLong(2, id);
                long sent = System.nanoTime();
                ps.executeUpdate(); // autocommit: the statement is the commit
                Change ch = new Change(id, priority, sent);
                for (ConcurrentLinkedQueue<Change> q : inbox) {
                    q.add(ch);
                }
            }
        }
        return total;
    }

    private static void read(
            Roster r,
            ConcurrentLinkedQueue<Change> inbox,
            Histogram h,
            AtomicLong reads,
            AtomicLong missing,
            AtomicBoolean writing,
            int perSecond) {
        long period = TimeUnit.SECONDS.toNanos(1) / perSecond;
        List<Change> pending = new ArrayList<>();
        long next = System.nanoTime();
        long drainDeadline = Long.MAX_VALUE;
        while (true) {
            pace(next);
            next += period;
            for (Change c; (c = inbox.poll()) != null; ) {
                pending.add(c);
            }
            if (!writing.get()) {
                if (drainDeadline == Long.MAX_VALUE) {
                    drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                }
                if (pending.isEmpty() && inbox.isEmpty()) {
                    return;
                }
                if (System.nanoTime() > drainDeadline) {
                    missing.addAndGet(pending.size());
                    return;
                }
            }
            List<AccountCard> cards;
            try {
                cards = r.list(null, "openai", false).accounts();
            } catch (RuntimeException e) {
                continue;
            }
            long now = System.nanoTime();
            reads.incrementAndGet();
            pending.removeIf(c -> {
                for (AccountCard card : cards) {
                    // Priorities only grow per account, so a later change also shows this one.
                    if (card.id() == c.accountId()) {
                        if (card.priority() >= c.priority()) {
                            h.recordValue(Math.max(0, now - c.sentNanos()));
                            return true;
                        }
                        return false;
                    }
                }
                return false;
            });
        }
    }

    private static void pace(long targetNanos) {
        long wait;
        while ((wait = targetNanos - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
        }
    }
}
