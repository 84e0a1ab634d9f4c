package dev.roster.bench.e2e;

import dev.roster.core.config.ServiceConfig;
import dev.roster.core.pool.PoolModel;
import dev.roster.postgres.PostgresSchedulingSource;
import java.lang.ref.Reference;
import java.util.List;
import java.util.Map;

/**
 * Heap held by the replayer's pool model: a pool (100,000 accounts in 1,000 groups at full size) is
 * loaded in bulk into a {@link PoolModel}, and the heap in use after full collections is taken with the
 * model reachable and again once it is dropped; the difference is what the model retains. The class
 * histogram (taken in-process, as {@code jcmd GC.class_histogram} prints it) is read in both states
 * as a second figure.
 */
final class PoolModelScenario {
    record Size(int accounts, int groups) {
        static final Size FULL = new Size(100_000, 1_000);
        static final Size TINY = new Size(2_000, 40);
    }

    /** What one measurement found. */
    record Result(
            int accounts,
            int groups,
            int modelAccounts,
            int modelGroups,
            double loadSeconds,
            long heapWithModel,
            long heapWithoutModel,
            long histogramWithModel,
            long histogramWithoutModel,
            long cardInstances) {
        /** Heap in use after full collections with the model minus without it. */
        long retained() {
            return heapWithModel - heapWithoutModel;
        }

        /** The class histogram's total bytes with the model minus without it. */
        long retainedByHistogram() {
            return histogramWithModel - histogramWithoutModel;
        }
    }

    private static final String CARD_CLASS = "dev.roster.core.AccountCard";

    /** Loads {@code pool} (already inserted in {@code s}) into a model and measures what it retains. */
    static Result measure(Stores s, Pool pool) {
        PostgresSchedulingSource source = new PostgresSchedulingSource(s.ds);
        ServiceConfig d = ServiceConfig.DEFAULTS;
        // A first load warms the classes and the driver, so their one-off allocations are in both figures.
        source.loadPool(new PoolModel(d.runMode(), d.scope().group0()));
        PoolModel model = new PoolModel(d.runMode(), d.scope().group0());
        long t0 = System.nanoTime();
        source.loadPool(model);
        double load = (System.nanoTime() - t0) / 1e9;
        long with = HeapProbe.usedAfterFullGc();
        Map<String, HeapProbe.ClassLine> histWith = HeapProbe.histogram(List.of(CARD_CLASS));
        int accounts = model.accountCount();
        int groups = model.groupCount();
        Reference.reachabilityFence(model);
        model = null;
        long without = HeapProbe.usedAfterFullGc();
        Map<String, HeapProbe.ClassLine> histWithout = HeapProbe.histogram(List.of(CARD_CLASS));
        HeapProbe.ClassLine none = new HeapProbe.ClassLine(0, 0);
        return new Result(
                pool.accounts(),
                pool.groups(),
                accounts,
                groups,
                load,
                with,
                without,
                histWith.getOrDefault("Total", none).bytes(),
                histWithout.getOrDefault("Total", none).bytes(),
                histWith.getOrDefault(CARD_CLASS, none).instances()
                        - histWithout.getOrDefault(CARD_CLASS, none).instances());
    }

    void run(Size size, Report report, String command) {
        Pool pool = new Pool(size.accounts(), size.groups());
        Result r;
        String load;
        try (Stores s = Stores.start("poolmodel")) {
            pool.insert(s);
            load = Machine.load();
            r = measure(s, pool);
        }
        Report.Section sec = report.section("Pool model: heap retained")
                .goal("the replayer's model of 100,000 accounts retains ≤ 150 MB of heap.")
                .command(command)
                .table(
                        "accounts",
                        "groups",
                        "bulk load",
                        "heap after GC, model reachable",
                        "heap after GC, model dropped",
                        "**retained**",
                        "class histogram difference",
                        "`AccountCard` instances held",
                        "load avg (1/5/15)")
                .row(
                        Report.n(r.modelAccounts()),
                        Report.n(r.modelGroups()),
                        Report.f("%.2f s", r.loadSeconds()),
                        mb(r.heapWithModel()),
                        mb(r.heapWithoutModel()),
                        "**" + mb(r.retained()) + "**",
                        mb(r.retainedByHistogram()),
                        Report.n(r.cardInstances()),
                        load);
        sec.note(Report.f(
                "Pool: %,d accounts in %,d groups inserted; the model holds %,d accounts and %,d groups (every"
                        + " live one, whatever its status). Heap after GC: `MemoryMXBean` heap used after"
                        + " `System.gc()` repeated until two readings agree within 1 %%. Histogram: total bytes of"
                        + " `GC.class_histogram` (the `DiagnosticCommand` MBean in this JVM), which counts live objects"
                        + " only. Goal ≤ 150 MB: %s.",
                r.accounts(),
                r.groups(),
                r.modelAccounts(),
                r.modelGroups(),
                size.accounts() < Size.FULL.accounts()
                        ? "not judged at this size"
                        : r.retained() <= 150L << 20 ? "met" : "**missed**"));
        report.add(sec);
        this.result = r;
    }

    Result result;

    static String mb(long bytes) {
        return Report.f("%.1f MB", bytes / 1048576.0);
    }
}
