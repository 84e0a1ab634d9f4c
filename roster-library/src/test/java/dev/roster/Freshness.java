package dev.roster;

import dev.roster.core.AccountCard;
import dev.roster.core.service.ListResult;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * Commit-to-visible on the hot path (issue 5): three Roster instances on one PostgreSQL and Redis; a
 * writer commits one change per {@code 1/changesPerSecond} through plain SQL (a new, unique priority
 * on the next account of a 200-account bucket); each instance's reader calls {@code list} at {@code
 * readsPerSecond} and, on every read, checks which committed changes it now shows. A change's latency
 * in an instance is the time from just before its UPDATE was sent (so it includes the commit's round
 * trip) to the first read of that instance that shows it.
 */
final class Freshness {
    record Result(List<Histogram> perInstance, long changes, List<Long> reads, List<Long> missing) {}

    private record Change(long accountId, int priority, long sentNanos) {}

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
            List<ConcurrentLinkedQueue<Change>> inbox = new ArrayList<>();
            List<Histogram> hist = new ArrayList<>();
            List<AtomicLong> reads = new ArrayList<>();
            List<AtomicLong> missing = new ArrayList<>();
            AtomicBoolean writing = new AtomicBoolean(true);
            List<Thread> readers = new ArrayList<>();
            // A reader that fails ends; its error is the run's result, not a shorter sample.
            List<Throwable> readerErrors = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (Roster r : rosters) {
                ConcurrentLinkedQueue<Change> q = new ConcurrentLinkedQueue<>();
                Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(30), 3);
                AtomicLong n = new AtomicLong();
                AtomicLong miss = new AtomicLong();
                inbox.add(q);
                hist.add(h);
                reads.add(n);
                missing.add(miss);
                readers.add(Thread.ofPlatform()
                        .name("freshness-reader")
                        .uncaughtExceptionHandler((t, e) -> readerErrors.add(e))
                        .start(() -> read(r, q, h, n, miss, writing, readsPerSecond)));
            }
            long changes = write(servers, ids, inbox, changesPerSecond, seconds);
            writing.set(false);
            for (Thread t : readers) {
                t.join();
            }
            if (!readerErrors.isEmpty()) {
                AssertionError failed = new AssertionError("a freshness reader failed", readerErrors.getFirst());
                readerErrors.stream().skip(1).forEach(failed::addSuppressed);
                throw failed;
            }
            return new Result(
                    hist,
                    changes,
                    reads.stream().map(AtomicLong::get).toList(),
                    missing.stream().map(AtomicLong::get).toList());
        } finally {
            for (Roster r : rosters) {
                r.close();
            }
        }
    }

    private static long write(
            Servers servers, List<Long> ids, List<ConcurrentLinkedQueue<Change>> inbox, int perSecond, int seconds)
            throws SQLException {
        long period = TimeUnit.SECONDS.toNanos(1) / perSecond;
        long total = (long) perSecond * seconds;
        try (Connection c = servers.db.connect();
                PreparedStatement ps = c.prepareStatement("UPDATE accounts SET priority = ? WHERE id = ?")) {
            long next = System.nanoTime();
            for (int i = 0; i < total; i++) {
                pace(next);
                next += period;
                long id = ids.get(i % ACCOUNTS);
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
            // Both stores are up for the whole run: a failed read is a failure of the run, not a sample.
            List<AccountCard> cards = r.list(null, "openai", false).accounts();
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
