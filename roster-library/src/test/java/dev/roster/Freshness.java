package dev.roster;

import dev.roster.core.AccountCard;
import dev.roster.core.service.ListResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;

/**
 * Commit-to-visible on the hot path: three Roster instances on one PostgreSQL and Redis, measured by
 * the testkit's {@link dev.roster.testkit.Freshness} harness (a writer commits a new, unique priority
 * on the next account of a 200-account bucket; each instance's reader calls {@code list} at {@code
 * readsPerSecond} and checks which committed changes it shows). A failed read fails the run: both
 * stores are up for the whole run.
 */
final class Freshness {
    record Result(List<Histogram> perInstance, long changes, List<Long> reads, List<Long> missing) {}

    static final int ACCOUNTS = 200;

    static Result run(Servers servers, int instances, int changesPerSecond, int readsPerSecond, int seconds)
            throws Exception {
        List<Long> ids = servers.openaiIds();
        if (ids.size() < ACCOUNTS) {
            throw new IllegalStateException("expected " + ACCOUNTS + " accounts, found " + ids.size());
        }
        List<Roster> rosters = new ArrayList<>();
        try {
            for (int i = 0; i < instances; i++) {
                rosters.add(servers.roster().build());
            }
            for (Roster r : rosters) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!(r.ready() && r.list(null, "openai", false).source() == ListResult.Source.NEAR_CACHE)) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("instance not warm within 60 s");
                    }
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                }
            }
            List<Supplier<List<AccountCard>>> lists = new ArrayList<>();
            for (Roster r : rosters) {
                lists.add(() -> r.list(null, "openai", false).accounts());
            }
            dev.roster.testkit.Freshness.Result r = dev.roster.testkit.Freshness.run(
                    servers.db::connect,
                    ids.subList(0, ACCOUNTS),
                    lists,
                    changesPerSecond,
                    readsPerSecond,
                    seconds,
                    false);
            return new Result(r.perInstance(), r.changes(), r.reads(), r.missing());
        } finally {
            for (Roster r : rosters) {
                r.close();
            }
        }
    }

    static String report(Result r, int readsPerSecond, int changesPerSecond) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(
                "changes committed: %d (%d/s); reads per instance target %d/s%n",
                r.changes(), changesPerSecond, readsPerSecond));
        sb.append("| instance | reads | changes seen | p50 | p99 | max | not seen within 10 s |\n");
        sb.append("|---|---:|---:|---:|---:|---:|---:|\n");
        for (int i = 0; i < r.perInstance().size(); i++) {
            Histogram h = r.perInstance().get(i);
            sb.append(String.format(
                    "| %d | %d | %d | %.1f ms | %.1f ms | %.1f ms | %d |%n",
                    i + 1,
                    r.reads().get(i),
                    h.getTotalCount(),
                    h.getValueAtPercentile(50) / 1e6,
                    h.getValueAtPercentile(99) / 1e6,
                    h.getMaxValue() / 1e6,
                    r.missing().get(i)));
        }
        return sb.toString();
    }
}
