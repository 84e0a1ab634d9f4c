package dev.roster.it.faults;

import dev.roster.Roster;
import dev.roster.core.AccountCard;
import dev.roster.core.service.ListResult;
import dev.roster.core.service.SchedulerException;
import dev.roster.core.source.SourceException;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.AccountSpec;
import dev.roster.postgres.GroupRepository;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import javax.sql.DataSource;

/**
 * The load of a fault scenario: one writer changing accounts, links and (optionally) groups through
 * the repositories and through plain SQL at a fixed rate, and reader threads on the hot path of every
 * live instance. Failures are counted, never thrown: a write refused while PostgreSQL is down simply
 * did not commit, and its outbox event does not exist. Only the failures a fault can cause are
 * expected (a write: the database unreachable, in a scenario that {@linkplain #expectDatabaseOutage
 * takes it away}; a read: one of the typed errors of the hot path); any
 * other failure, and any error that ends a load thread, is kept in {@link #unexpected()}, which the
 * convergence check asserts empty. Every secret written contains {@link
 * SecretScan#MARKER}, and every answer a reader gets is scanned for it.
 *
 * <p>Pacing uses {@code parkNanos} between operations: that shapes the load, it never waits for a
 * condition.
 */
public final class Load implements AutoCloseable {
    static final List<String> PLATFORMS = List.of("anthropic", "openai", "gemini", "antigravity");

    private final DataSource ds;
    private final AccountRepository accounts;
    private final GroupRepository groups;
    private final List<Long> accountIds = new CopyOnWriteArrayList<>();
    private final List<Long> groupIds;
    private final FaultSize size;
    private final boolean groupFlips;
    private final Supplier<List<Roster>> instances;
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running;
    private int readersPerInstance;
    private volatile boolean databaseOutage;

    /** Writes committed. */
    public final AtomicLong writes = new AtomicLong();
    /** Writes refused (store down, constraint). */
    public final AtomicLong writeFailures = new AtomicLong();
    /** Reads answered. */
    public final AtomicLong served = new AtomicLong();
    /** Reads that threw. */
    public final AtomicLong failed = new AtomicLong();
    /** Reads answered by the database fallback. */
    public final AtomicLong fromDatabase = new AtomicLong();

    private final List<Throwable> unexpected = new CopyOnWriteArrayList<>();

    /**
     * @param groupIds the groups the writer links accounts to (and flips, when {@code groupFlips})
     * @param instances the instances readers use (read on every call, so a scenario can replace them)
     */
    public Load(
            DataSource ds, List<Long> groupIds, FaultSize size, boolean groupFlips, Supplier<List<Roster>> instances) {
        this.ds = ds;
        this.accounts = new AccountRepository(ds);
        this.groups = new GroupRepository(ds);
        this.groupIds = List.copyOf(groupIds);
        this.size = size;
        this.groupFlips = groupFlips;
        this.instances = instances;
    }

    /** Credentials with secrets (and a model mapping, the one part a card may carry). */
    public static Map<String, Object> credentials() {
        return Map.of(
                "api_key", SecretScan.newSecret("api"),
                "refresh_token", SecretScan.newSecret("refresh"),
                "model_mapping", Map.of("claude-sonnet-4", "claude-sonnet-4-20250514"));
    }

    /** Creates the starting pool of {@code size.accounts()} accounts spread over platforms and groups. */
    public void seed() {
        SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i < size.accounts(); i++) {
            createOne(r, i);
        }
    }

    private void createOne(SplittableRandom r, int i) {
        String platform = PLATFORMS.get(i % PLATFORMS.size());
        List<Long> links = r.nextInt(3) == 0 ? List.of() : List.of(groupIds.get(r.nextInt(groupIds.size())));
        accountIds.add(accounts.create(
                AccountSpec.of("acc-" + i + "-" + r.nextInt(1000), platform, i % 2 == 0 ? "apikey" : "oauth")
                        .withPriority(r.nextInt(10))
                        .withCredentials(credentials())
                        .withExtra(Map.of("mixed_scheduling", r.nextBoolean())),
                links));
    }

    /** The accounts created so far. */
    public List<Long> accountIds() {
        return List.copyOf(accountIds);
    }

    /** Starts the writer and {@code size.readers()} readers per instance. */
    public Load start() {
        running = true;
        readersPerInstance = size.readers();
        threads.add(thread("fault-writer").start(this::writeLoop));
        for (int i = 0; i < size.readers() * Math.max(1, instances.get().size()); i++) {
            int n = i;
            threads.add(thread("fault-reader-" + i).start(() -> readLoop(n)));
        }
        return this;
    }

    /**
     * Starts the writer only: a scenario that counts every read by its source drives the reads itself,
     * so that no reader of ours takes a share of the fallback limiter it measures.
     */
    public Load startWriterOnly() {
        running = true;
        threads.add(thread("fault-writer").start(this::writeLoop));
        return this;
    }

    private Thread.Builder thread(String name) {
        // A load thread that dies (an error, an assertion inside a read) must not just stop the load.
        return Thread.ofPlatform().name(name).daemon().uncaughtExceptionHandler((t, e) -> unexpected.add(e));
    }

    /**
     * The failures no fault explains: a write that failed while the database was reachable (a
     * refusal, a bug), a read that failed with anything but a typed hot-path error ({@link
     * SchedulerException}), an error that ended a load thread.
     */
    public List<Throwable> unexpected() {
        return List.copyOf(unexpected);
    }

    /**
     * Declares that the scenario takes the database away: from now on a write may fail with a store
     * error. Without it every write must commit (no scenario but a database outage refuses writes).
     */
    public void expectDatabaseOutage() {
        databaseOutage = true;
    }

    /**
     * Whether a write failed because the database could not be reached or was going away: the
     * repositories' store error ({@link SourceException}; their refusals are {@link
     * IllegalArgumentException}s), a connection-class SQL state (08), an operator intervention (57P:
     * shutdown, crash recovery), or the pool's timeout for a connection.
     */
    static boolean databaseUnreachable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SourceException || t instanceof SQLTransientConnectionException) {
                return true;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                String state = sql.getSQLState();
                if (state.startsWith("08") || state.startsWith("57P")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Runs the load for {@code d} (the caller's thread just holds the fault for that long). */
    public static void hold(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < end) {
            LockSupport.parkNanos(Math.min(end - System.nanoTime(), TimeUnit.MILLISECONDS.toNanos(50)));
        }
    }

    private void writeLoop() {
        SplittableRandom r = new SplittableRandom(7);
        long pause = TimeUnit.SECONDS.toNanos(1) / size.writeRate();
        int created = size.accounts();
        while (running) {
            try {
                writeOne(r);
                if (r.nextInt(40) == 0) {
                    createOne(r, created++);
                }
                writes.incrementAndGet();
            } catch (RuntimeException e) {
                writeFailures.incrementAndGet();
                if (!(databaseOutage && databaseUnreachable(e))) {
                    unexpected.add(e);
                }
            }
            LockSupport.parkNanos(pause);
        }
    }

    private void writeOne(SplittableRandom r) {
        List<Long> ids = accountIds();
        long a = ids.get(r.nextInt(ids.size()));
        long g = groupIds.get(r.nextInt(groupIds.size()));
        switch (r.nextInt(groupFlips ? 11 : 10)) {
            case 0, 1 -> accounts.setPriority(a, r.nextInt(10));
            case 2 -> accounts.setStatus(a, r.nextInt(4) == 0 ? "error" : "active");
            case 3 -> accounts.setSchedulable(a, r.nextInt(4) != 0);
            case 4 ->
                accounts.setRateLimitResetAt(
                        a, r.nextBoolean() ? null : Instant.now().plusSeconds(3600));
            case 5 -> accounts.bindGroup(a, g, r.nextInt(5));
            case 6 -> accounts.unbindGroup(a, g);
            // A token refresh: a new secret, no outbox event (capture ignores it), and never anywhere but here.
            case 7 -> accounts.setCredentials(a, credentials());
            case 8 ->
                sql("UPDATE accounts SET priority = (priority + 1) % 10 WHERE platform = '"
                        + PLATFORMS.get(r.nextInt(PLATFORMS.size())) + "' AND id % 3 = " + r.nextInt(3));
            case 9 -> sql("UPDATE accounts SET concurrency = " + (1 + r.nextInt(5)) + " WHERE id = " + a);
            default -> groups.setStatus(g, r.nextBoolean() ? "inactive" : "active");
        }
    }

    private void sql(String s) {
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement()) {
            st.execute(s);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private void readLoop(int n) {
        SplittableRandom r = new SplittableRandom(100 + n);
        while (running) {
            List<Roster> live = instances.get();
            if (live.isEmpty()) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                continue;
            }
            Roster roster = live.get(n % live.size());
            try {
                if (r.nextInt(8) == 0) {
                    List<Long> ids = accountIds();
                    Optional<AccountCard> c = roster.getAccount(ids.get(r.nextInt(ids.size())), Duration.ofMillis(500));
                    SecretScan.inspect("getAccount", String.valueOf(c));
                } else {
                    Long g = r.nextInt(3) == 0 ? null : groupIds.get(r.nextInt(groupIds.size()));
                    ListResult l = roster.list(
                            g, PLATFORMS.get(r.nextInt(PLATFORMS.size())), r.nextInt(4) == 0, Duration.ofMillis(500));
                    if (l.source() == ListResult.Source.DATABASE) {
                        fromDatabase.incrementAndGet();
                    }
                    SecretScan.inspect("list", l.toString());
                }
                served.incrementAndGet();
            } catch (RuntimeException e) {
                failed.incrementAndGet();
                SecretScan.inspect("read error", String.valueOf(e));
                if (!(e instanceof SchedulerException)) {
                    unexpected.add(e);
                }
                // A failing store makes reads fail fast; keep the failure loop from spinning a core.
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    /**
     * Stops writer and readers and waits for them to end.
     *
     * @throws AssertionError when a load thread does not end within 30 s or the wait is interrupted
     */
    @Override
    public void close() {
        running = false;
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while stopping the load", e);
            }
            if (t.isAlive()) {
                throw new AssertionError("load thread " + t.getName() + " did not stop within 30 s");
            }
        }
    }

    /** A short description of the load for the report. */
    public String describe(int instanceCount) {
        return size.writeRate() + " writes/s, " + readersPerInstance * instanceCount + " readers, " + instanceCount
                + " instance(s), " + size.accounts() + " accounts";
    }
}
