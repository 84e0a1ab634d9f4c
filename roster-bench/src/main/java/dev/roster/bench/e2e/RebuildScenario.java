package dev.roster.bench.e2e;

import dev.roster.Roster;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Full rebuild at scale: for each pool size (10,000 and 100,000 accounts in 1,000 groups at full
 * size), a Roster starts on an empty Redis, so its first full rebuild publishes every bucket (10 per
 * group over four platforms, plus group 0) and every card under a new generation; then one more full
 * rebuild is requested on the warm JVM. Reported: wall time of each, peak heap during each (sum of the
 * heap pools' peak usage, reset before), Redis {@code used_memory} after.
 */
final class RebuildScenario {
    record Size(List<Integer> accounts, int groups) {
        static final Size FULL = new Size(List.of(10_000, 100_000), 1_000);
        static final Size TINY = new Size(List.of(400, 2_000), 40);
    }

    void run(Size size, Report report, String command) throws Exception {
        Report.Section sec = report.section("Full rebuild at scale")
                .goal("100,000 accounts (1,000 groups) fully rebuilt in ≤ 3 s, peak heap reported.")
                .command(command)
                .table(
                        "accounts",
                        "groups",
                        "buckets",
                        "run",
                        "wall",
                        "buckets/s",
                        "peak heap (pools)",
                        "largest heap after a GC",
                        "GCs",
                        "Redis used_memory",
                        "load avg (1/5/15)");
        for (int accounts : size.accounts()) {
            Pool pool = new Pool(accounts, size.groups());
            try (Stores s = Stores.start("rebuild-" + accounts)) {
                pool.insert(s);
                long redisBase = s.redisUsedMemory();
                String load = Machine.load();
                resetPeaks();
                HeapProbe coldProbe = new HeapProbe();
                long t0 = System.nanoTime();
                try (Roster r = s.roster(Configs.replayOnly()).build()) {
                    if (!Stores.await(r::ready, 300)) {
                        throw new IllegalStateException("initial full rebuild not done within 300 s");
                    }
                    double cold = (System.nanoTime() - t0) / 1e9;
                    long heapCold = peakHeap();
                    coldProbe.close();
                    int buckets = r.admin().buckets().size();
                    long redisMem = s.redisUsedMemory();
                    sec.row(
                            Report.n(accounts),
                            Report.n(size.groups()),
                            Report.n(buckets),
                            "first (empty Redis, from `build()`)",
                            Report.f("**%.2f s**", cold),
                            Report.n(buckets / cold),
                            mb(heapCold),
                            coldProbe.collections() == 0 ? "no GC" : mb(coldProbe.maxAfterGc()),
                            coldProbe.collections(),
                            mb(redisMem) + " (empty: " + mb(redisBase) + ")",
                            load);
                    load = Machine.load();
                    resetPeaks();
                    double warm;
                    long warmPeak;
                    long warmAfterGc;
                    long warmGcs;
                    try (HeapProbe probe = new HeapProbe()) {
                        long t1 = System.nanoTime();
                        r.admin().rebuildAll().get(300, TimeUnit.SECONDS);
                        warm = (System.nanoTime() - t1) / 1e9;
                        warmPeak = peakHeap();
                        warmAfterGc = probe.maxAfterGc();
                        warmGcs = probe.collections();
                    }
                    sec.row(
                            Report.n(accounts),
                            Report.n(size.groups()),
                            Report.n(buckets),
                            "requested (warm JVM)",
                            Report.f("**%.2f s**", warm),
                            Report.n(buckets / warm),
                            mb(warmPeak),
                            warmGcs == 0 ? "no GC" : mb(warmAfterGc),
                            warmGcs,
                            mb(s.redisUsedMemory()),
                            load);
                    if (accounts == size.accounts().getLast()) {
                        this.lastCold = cold;
                        this.lastWarm = warm;
                    }
                }
            }
        }
        sec.note("Peak heap (pools) is the sum of the JVM heap pools' peak usage since the reset before the run:"
                + " it includes garbage not yet collected, so it is an upper bound of what the rebuild needs. The"
                + " largest heap after a GC is taken from the collectors' notifications during the run (what"
                + " survived a collection; \"no GC\" when none ran). The first run includes the start of the service. The"
                + " Redis figure holds every bucket's snapshot (cards inline) and every card.");
        report.add(sec);
    }

    double lastCold;
    double lastWarm;

    private static String mb(long bytes) {
        return Report.f("%.0f MB", bytes / 1048576.0);
    }

    private static void resetPeaks() {
        System.gc();
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                p.resetPeakUsage();
            }
        }
    }

    private static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
                sum += p.getPeakUsage().getUsed();
            }
        }
        return sum;
    }
}
