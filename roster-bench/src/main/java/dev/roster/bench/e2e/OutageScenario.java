package dev.roster.bench.e2e;

import dev.roster.Roster;
import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.service.ListResult;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Outage: readers call {@code list} on random group buckets at a fixed total rate; Redis is stopped
 * (SIGTERM, no persistence, so it comes back empty) for {@code outageSeconds}, then started again on
 * the same port. Per second: reads answered, reads failed, answers by source, and database fallback
 * queries (which {@code db_fallback_max_qps} must bound). Recovery is the time from Redis's restart to
 * the point after which every read is answered from the near cache or the projection (not the
 * database) and the service is ready again (its full rebuild into the empty Redis done).
 */
final class OutageScenario {
    record Size(
            int accounts,
            int groups,
            int readers,
            int readsPerSecondEach,
            double warmSeconds,
            double outageSeconds,
            double maxRecoverySeconds,
            int dbFallbackMaxQps) {
        static final Size FULL = new Size(10_000, 100, 4, 250, 10, 10, 60, 50);
        static final Size TINY = new Size(400, 12, 2, 100, 1, 2, 30, 50);
    }

    static final int SLOTS = 600;
    final Series ok = new Series("reads answered / s");
    final Series failed = new Series("reads failed / s");
    final Series dbqps = new Series("DB fallback queries / s");

    void run(Size size, Report report, String command) throws Exception {
        Pool pool = new Pool(size.accounts(), size.groups());
        ServiceConfig config = ServiceConfig.DEFAULTS.withScheduling(
                Configs.scheduling(SchedulingConfig.DEFAULTS, size.dbFallbackMaxQps(), 10, 10_000, 300));
        try (Stores s = Stores.start("outage")) {
            pool.insert(s);
            try (Roster r = s.roster(config).build()) {
                if (!Stores.await(r::ready, 120)) {
                    throw new IllegalStateException("not ready within 120 s");
                }
                AtomicLongArray okAt = new AtomicLongArray(SLOTS);
                AtomicLongArray failAt = new AtomicLongArray(SLOTS);
                AtomicLongArray dbAt = new AtomicLongArray(SLOTS);
                AtomicLongArray fbAt = new AtomicLongArray(SLOTS);
                AtomicBoolean run = new AtomicBoolean(true);
                long t0 = System.nanoTime();
                // Last time (ns since t0) a read failed or was answered by the database.
                java.util.concurrent.atomic.AtomicLong lastUnclean = new java.util.concurrent.atomic.AtomicLong();
                List<Thread> readers = new ArrayList<>();
                for (int k = 0; k < size.readers(); k++) {
                    int seed = k;
                    readers.add(Thread.ofPlatform().name("bench-reader-" + k).start(() -> {
                        SplittableRandom rnd = new SplittableRandom(seed);
                        long period = TimeUnit.SECONDS.toNanos(1) / size.readsPerSecondEach();
                        long next = System.nanoTime();
                        while (run.get()) {
                            long wait = next - System.nanoTime();
                            if (wait > 0) {
                                LockSupport.parkNanos(wait);
                            }
                            next += period;
                            long g = 1 + rnd.nextInt(size.groups());
                            String platform = Pool.PLATFORMS.get((int) ((g - 1) % 4));
                            long at = System.nanoTime() - t0;
                            int slot = (int) Math.min(SLOTS - 1, at / 1_000_000_000L);
                            try {
                                ListResult res = r.list(g, platform, false);
                                okAt.incrementAndGet(slot);
                                if (res.source() == ListResult.Source.DATABASE) {
                                    dbAt.incrementAndGet(slot);
                                    lastUnclean.accumulateAndGet(at, Math::max);
                                }
                            } catch (RuntimeException e) {
                                failAt.incrementAndGet(slot);
                                lastUnclean.accumulateAndGet(at, Math::max);
                            }
                        }
                    }));
                }
                Thread fb = Thread.ofPlatform().name("bench-fallback-counter").start(() -> {
                    long last = r.admin().fallbackQueries();
                    int slot = 0;
                    while (run.get()) {
                        long target = t0 + (slot + 1) * 1_000_000_000L;
                        long wait = target - System.nanoTime();
                        if (wait > 0) {
                            LockSupport.parkNanos(wait);
                        }
                        long now = r.admin().fallbackQueries();
                        if (slot < SLOTS) {
                            fbAt.set(slot, now - last);
                        }
                        last = now;
                        slot++;
                    }
                });
                sleep(size.warmSeconds());
                String loadBefore = Machine.load();
                long stopAt = System.nanoTime() - t0;
                s.redis.stop();
                sleep(size.outageSeconds());
                s.redis.start();
                long restartAt = System.nanoTime() - t0;
                // Recovered: ready, and no unclean read for a full second after the restart.
                long recoveredAt = -1;
                long deadline = System.nanoTime() + (long) (size.maxRecoverySeconds() * 1e9);
                while (System.nanoTime() < deadline) {
                    long now = System.nanoTime() - t0;
                    long lu = lastUnclean.get();
                    if (r.ready() && generationStored(r) && now - Math.max(lu, restartAt) >= 1_000_000_000L) {
                        recoveredAt = Math.max(lu, restartAt);
                        break;
                    }
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                }
                sleep(2);
                run.set(false);
                for (Thread t : readers) {
                    t.join();
                }
                fb.join();
                String loadAfter = Machine.load();
                int stopSlot = (int) (stopAt / 1_000_000_000L);
                int restartSlot = (int) (restartAt / 1_000_000_000L);
                int endSlot = (int) Math.min(SLOTS - 1, (System.nanoTime() - t0) / 1_000_000_000L);
                long[] phaseOk = new long[3];
                long[] phaseFail = new long[3];
                long[] phaseDb = new long[3];
                long maxFb = 0;
                long fbTotal = 0;
                for (int i = 0; i < endSlot; i++) {
                    int ph = i < stopSlot ? 0 : i <= restartSlot ? 1 : 2;
                    phaseOk[ph] += okAt.get(i);
                    phaseFail[ph] += failAt.get(i);
                    phaseDb[ph] += dbAt.get(i);
                    maxFb = Math.max(maxFb, fbAt.get(i));
                    fbTotal += fbAt.get(i);
                    ok.add(i + 0.5, okAt.get(i));
                    failed.add(i + 0.5, failAt.get(i));
                    dbqps.add(i + 0.5, fbAt.get(i));
                }
                Report.Section sec = report.section("Outage: Redis stopped under load")
                        .goal("DB fallback queries/s ≤ `db_fallback_max_qps` (" + size.dbFallbackMaxQps()
                                + " here) throughout; report hot-path success rate and the time to full recovery after"
                                + " Redis returns empty.")
                        .command(command)
                        .table(
                                "phase (seconds since start)",
                                "reads",
                                "answered",
                                "success rate",
                                "answered by DB",
                                "load avg (1/5/15)");
                String[] names = {
                    Report.f("before (0–%d s)", stopSlot),
                    Report.f("Redis down (%d–%d s)", stopSlot, restartSlot),
                    Report.f("after restart (%d–%d s)", restartSlot, endSlot)
                };
                for (int ph = 0; ph < 3; ph++) {
                    long total = phaseOk[ph] + phaseFail[ph];
                    sec.row(
                            names[ph],
                            Report.n(total),
                            Report.n(phaseOk[ph]),
                            Report.f("**%.2f %%**", total == 0 ? 0 : 100.0 * phaseOk[ph] / total),
                            Report.n(phaseDb[ph]),
                            ph == 0 ? loadBefore : loadAfter);
                }
                sec.note(Report.f(
                        "Load: %d readers × %d reads/s over %d group buckets of a %,d-account pool; near cache on"
                                + " (max_stale %d s), `db_fallback_max_qps` = %d. **DB fallback queries: at most %d in"
                                + " any one second** (%,d in all; goal ≤ %d/s: %s). The limiter counts in fixed 1-s"
                                + " windows that start at a fallback, and these seconds are the harness's own, not"
                                + " aligned with them: one of them can overlap two limiter windows and see up to twice"
                                + " the limit, so the check here is against that bound (2 × %d). Redis stopped for %.0f s. **Time to"
                                + " full recovery after Redis came back empty: %s** (ready again, full rebuild into the"
                                + " empty Redis done, and every read since answered by the near cache or the"
                                + " projection). Per-second series: `outage.png`.",
                        size.readers(),
                        size.readsPerSecondEach(),
                        size.groups(),
                        size.accounts(),
                        ServiceConfig.DEFAULTS.nearCache().maxStale().toSeconds(),
                        size.dbFallbackMaxQps(),
                        maxFb,
                        fbTotal,
                        size.dbFallbackMaxQps(),
                        maxFb <= size.dbFallbackMaxQps()
                                ? "met"
                                : maxFb <= 2L * size.dbFallbackMaxQps()
                                        ? "met per limiter window, over the limit in a sliding second"
                                        : "**missed**",
                        size.dbFallbackMaxQps(),
                        size.outageSeconds(),
                        recoveredAt < 0
                                ? "not within " + size.maxRecoverySeconds() + " s"
                                : Report.f("%.2f s", (recoveredAt - restartAt) / 1e9)));
                report.add(sec);
            }
        }
    }

    /** Whether the empty Redis holds a generation again, i.e. the full rebuild into it finished. */
    private static boolean generationStored(Roster r) {
        try {
            return r.projection().generation().value().isPresent();
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static void sleep(double seconds) {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long w;
        while ((w = end - System.nanoTime()) > 0) {
            LockSupport.parkNanos(w);
        }
    }
}
