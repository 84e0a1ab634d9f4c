package dev.roster.bench.e2e;

import dev.roster.Roster;
import dev.roster.core.AccountCard;
import dev.roster.core.config.NearCacheConfig;
import dev.roster.core.config.ProjectionConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.service.ListResult;
import dev.roster.testkit.Freshness;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;

/**
 * Freshness, commit to visible: the testkit's {@link Freshness} harness (the one the library's freshness
 * test runs) on the embedded default. Three Roster instances in this JVM, the same
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

    /** 800 accounts over four platforms: 200 openai accounts, all in group 0's openai bucket. */
    static final Pool POOL = new Pool(800, 12);

    final List<Histogram> histograms = new ArrayList<>();

    void run(Size size, Report report, String command) throws Exception {
        Pool pool = POOL;
        try (Stores s = Stores.start("freshness")) {
            pool.insert(s);
            List<Long> ids = openaiAccounts();
            List<Roster> rosters = new ArrayList<>();
            try {
                startWarm(s, size.instances(), rosters);
                String load = Machine.load();
                List<Supplier<List<AccountCard>>> lists = new ArrayList<>();
                for (Roster r : rosters) {
                    lists.add(() -> r.list(null, "openai", false).accounts());
                }
                Freshness.Result result = Freshness.run(
                        s::connect, ids, lists, size.changesPerSecond(), size.readsPerSecond(), size.seconds(), true);
                histograms.addAll(result.perInstance());
                long changes = result.changes();
                double writeSecs = result.writeSeconds();
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
                            Report.n(result.reads().get(i)),
                            Report.n(h.getTotalCount()),
                            Report.ms(h.getValueAtPercentile(50)),
                            "**" + Report.ms(h.getValueAtPercentile(99)) + "**",
                            Report.ms(h.getMaxValue()),
                            result.missing().get(i),
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

    /** The 200 openai accounts of {@link #POOL}, all in group 0's openai bucket: the ones the writer changes. */
    static List<Long> openaiAccounts() {
        List<Long> ids = new ArrayList<>();
        for (long i = 2; i <= POOL.accounts(); i += 4) {
            ids.add(i);
        }
        return ids;
    }

    /**
     * Starts {@code instances} Roster instances on {@link #CONFIG}, adding each to {@code into} as soon as
     * it is built (so the caller closes what started even when a later one fails), and waits until each
     * answers group 0's openai bucket from its near cache.
     */
    static void startWarm(Stores s, int instances, List<Roster> into) {
        for (int i = 0; i < instances; i++) {
            into.add(s.roster(CONFIG).build());
        }
        for (Roster r : into) {
            if (!Stores.await(
                    () -> r.ready() && r.list(null, "openai", false).source() == ListResult.Source.NEAR_CACHE, 120)) {
                throw new IllegalStateException("instance not warm within 120 s");
            }
        }
    }
}
