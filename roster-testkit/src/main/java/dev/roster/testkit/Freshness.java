package dev.roster.testkit;

import dev.roster.core.AccountCard;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;

/**
 * Commit-to-visible on the hot path, measured the same way by the library's freshness test and the
 * end-to-end bench: a writer commits one change per {@code 1/changesPerSecond} through plain SQL (a new,
 * growing priority on the next of the given accounts, autocommit); each instance's reader lists the
 * bucket at {@code readsPerSecond} and, on every read, checks which committed changes it now shows. A
 * change's latency in an instance runs from just before its UPDATE was sent (so it includes the
 * commit's round trip) to the first read of that instance that shows it. Only this writer may change
 * these accounts' priorities while it runs: a later change then also shows every earlier one.
 */
public final class Freshness {
    /** How long readers keep looking for changes after the writer stopped; what is still unseen is missing. */
    public static final long DRAIN_NANOS = TimeUnit.SECONDS.toNanos(10);

    private Freshness() {}

    /**
     * One committed change.
     *
     * @param accountId the account changed
     * @param priority its new priority
     * @param sentNanos {@link System#nanoTime()} just before the UPDATE was sent
     */
    public record Change(long accountId, int priority, long sentNanos) {}

    /** Opens a connection to the database the instances read (one for the whole write phase). */
    @FunctionalInterface
    public interface Database {
        /** A new connection, in autocommit mode. */
        Connection connect() throws Exception;
    }

    /** Told each time a read shows a change for the first time. */
    @FunctionalInterface
    public interface Seen {
        /**
         * Records that a read showed {@code change}.
         *
         * @param change the change
         * @param readNanos {@link System#nanoTime()} when the read that shows it returned
         */
        void seen(Change change, long readNanos);
    }

    /**
     * One run's figures.
     *
     * @param perInstance latencies (ns) of the changes each instance showed
     * @param changes changes committed
     * @param reads reads per instance
     * @param missing changes per instance not shown within {@link #DRAIN_NANOS} after the writer stopped
     * @param writeSeconds how long the write phase took
     */
    public record Result(
            List<Histogram> perInstance, long changes, List<Long> reads, List<Long> missing, double writeSeconds) {}

    /**
     * Runs one measurement over warm instances.
     *
     * @param db where the writer commits
     * @param ids the accounts changed, in turn; all in the listed bucket
     * @param instances one list call per instance (the bucket under test)
     * @param skipFailedReads whether a read that throws is skipped (the change stays pending) instead of
     *     ending the run with an {@link AssertionError}
     */
    public static Result run(
            Database db,
            List<Long> ids,
            List<Supplier<List<AccountCard>>> instances,
            int changesPerSecond,
            int readsPerSecond,
            double seconds,
            boolean skipFailedReads)
            throws Exception {
        List<ConcurrentLinkedQueue<Change>> inbox = new ArrayList<>();
        List<Histogram> hist = new ArrayList<>();
        List<AtomicLong> reads = new ArrayList<>();
        List<AtomicLong> missing = new ArrayList<>();
        AtomicBoolean writing = new AtomicBoolean(true);
        List<Thread> readers = new ArrayList<>();
        // A reader that fails ends; its error is the run's result, not a shorter sample.
        List<Throwable> readerErrors = new CopyOnWriteArrayList<>();
        for (Supplier<List<AccountCard>> list : instances) {
            ConcurrentLinkedQueue<Change> q = new ConcurrentLinkedQueue<>();
            Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(30), 3);
            AtomicLong n = new AtomicLong();
            AtomicLong miss = new AtomicLong();
            inbox.add(q);
            hist.add(h);
            reads.add(n);
            missing.add(miss);
            Seen record = (c, at) -> h.recordValue(Math.max(0, at - c.sentNanos()));
            readers.add(Thread.ofPlatform()
                    .name("freshness-reader")
                    .uncaughtExceptionHandler((t, e) -> readerErrors.add(e))
                    .start(() -> read(list, q, record, n, miss, writing, readsPerSecond, skipFailedReads)));
        }
        long writeStart = System.nanoTime();
        long changes;
        try {
            changes = write(db, ids, inbox, changesPerSecond, seconds);
        } finally {
            writing.set(false);
        }
        double writeSeconds = (System.nanoTime() - writeStart) / 1e9;
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
                missing.stream().map(AtomicLong::get).toList(),
                writeSeconds);
    }

    /**
     * The writer: {@code perSecond * seconds} changes, paced, each handed to every inbox once committed.
     *
     * @return the number of changes committed
     */
    public static long write(
            Database db, List<Long> ids, List<? extends Queue<Change>> inbox, int perSecond, double seconds)
            throws Exception {
        long period = TimeUnit.SECONDS.toNanos(1) / perSecond;
        long total = (long) (perSecond * seconds);
        try (Connection c = db.connect();
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
                for (Queue<Change> q : inbox) {
                    q.add(ch);
                }
            }
        }
        return total;
    }

    /**
     * One instance's reader: lists at {@code perSecond}, tells {@code seen} of each change the list
     * shows for the first time, and ends once {@code writing} is false and every change was seen, or
     * {@link #DRAIN_NANOS} after that, adding what is still unseen to {@code missing}.
     *
     * @param reads counts the reads that returned
     * @param skipFailedReads whether a read that throws is skipped; otherwise its exception ends the reader
     */
    public static void read(
            Supplier<List<AccountCard>> list,
            Queue<Change> inbox,
            Seen seen,
            AtomicLong reads,
            AtomicLong missing,
            AtomicBoolean writing,
            int perSecond,
            boolean skipFailedReads) {
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
                    drainDeadline = System.nanoTime() + DRAIN_NANOS;
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
                cards = list.get();
            } catch (RuntimeException e) {
                if (!skipFailedReads) {
                    throw e;
                }
                // An unanswered read shows nothing; the change stays pending for the next one.
                continue;
            }
            long now = System.nanoTime();
            reads.incrementAndGet();
            pending.removeIf(c -> {
                for (AccountCard card : cards) {
                    // Priorities only grow per account, so a later change also shows this one.
                    if (card.id() == c.accountId()) {
                        if (card.priority() >= c.priority()) {
                            seen.seen(c, now);
                            return true;
                        }
                        return false;
                    }
                }
                return false;
            });
        }
    }

    /** Waits until {@link System#nanoTime()} reaches {@code targetNanos}. */
    public static void pace(long targetNanos) {
        long wait;
        while ((wait = targetNanos - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
        }
    }
}
