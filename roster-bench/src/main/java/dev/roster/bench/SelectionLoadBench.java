package dev.roster.bench;

import dev.roster.Roster;
import dev.roster.core.selection.AccountLoad;
import dev.roster.core.selection.SelectRequest;
import dev.roster.core.selection.Selection;
import dev.roster.embedded.EmbeddedPostgres;
import dev.roster.embedded.EmbeddedRedis;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * Selection's load figures: the spread of in-flight load over equal-priority accounts and the sticky hit
 * rate of healthy sessions, from three {@link Roster} instances on an embedded PostgreSQL 17 and Redis 7
 * (loopback). Eight openai accounts of priority 50 and concurrency 4 (capacity 32); client threads spread
 * over the three instances, each owning four sessions it uses in turn (every fifth request has no
 * session); a request holds its slot 5–15 ms (the simulated upstream call), a wait plan is retried every
 * millisecond with its ticket. No upstream errors: every session is healthy. Two phases: {@code
 * saturated} (48 clients, demand above capacity) and {@code below} (20 clients, under capacity). In-flight
 * per account is sampled at Redis every 2 ms; the spread is max/min of the per-account averages. The
 * sticky hit rate is the share of a session's requests after its first that were served by the account
 * that served its previous request. Two more phases measure weights: three accounts of one group with
 * weights 1, 2 and 4 and concurrency 20 each, requests without sessions, at low concurrency ({@code
 * weighted-low}, 2 clients) and at high concurrency ({@code weighted-high}, 30 clients, so the heaviest
 * account's share stays below its concurrency); the in-flight share of each account is printed beside
 * its weight's share.
 *
 * <p>Run: {@code java -cp roster-bench/target/benchmarks.jar dev.roster.bench.SelectionLoadBench [seconds
 * per phase, default 15]}.
 */
public final class SelectionLoadBench {
    private static final int ACCOUNTS = 8;
    private static final int CONCURRENCY = 4;
    private static final int SESSIONS_PER_CLIENT = 4;
    private static final int[] WEIGHTS = {1, 2, 4};
    private static final int WEIGHTED_CONCURRENCY = 20;

    private SelectionLoadBench() {}

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        Path dir = Files.createTempDirectory("roster-bench-selection-load-");
        EmbeddedPostgres pg =
                EmbeddedPostgres.builder(dir.resolve("pg")).ephemeral().build().start();
        EmbeddedRedis redis =
                EmbeddedRedis.builder().dataDir(dir.resolve("redis")).build();
        redis.start();
        List<Roster> rosters = new ArrayList<>();
        try {
            String url = pg.jdbcUrl("postgres");
            for (int i = 0; i < 3; i++) {
                rosters.add(Roster.builder()
                        .jdbc(url, pg.user(), "")
                        .redisUri(redis.uri())
                        .keyPrefix("bench:")
                        .build());
            }
            try (Connection c = DriverManager.getConnection(url, pg.user(), "");
                    Statement st = c.createStatement()) {
                st.execute("INSERT INTO accounts (name, platform, type, concurrency) SELECT 'eq-' || i, 'openai',"
                        + " 'apikey', " + CONCURRENCY + " FROM generate_series(1, " + ACCOUNTS + ") i");
            }
            for (Roster r : rosters) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (r.list(null, "openai", false).accounts().size() != ACCOUNTS) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the bucket did not reach the near cache within 60 s");
                    }
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
                }
            }
            List<Long> ids = rosters.getFirst().list(null, "openai", false).accounts().stream()
                    .map(a -> a.id())
                    .toList();
            System.out.printf(
                    "%d equal accounts x concurrency %d, 3 Roster instances, %d s per phase, %d cores%n",
                    ACCOUNTS, CONCURRENCY, seconds, Runtime.getRuntime().availableProcessors());
            phase("saturated", 48, seconds, rosters, ids, null, null);
            phase("below", 20, seconds, rosters, ids, null, null);
            long group = weightedGroup(url, pg.user());
            List<Long> weighted = awaitBucket(rosters, group, WEIGHTS.length);
            Map<Long, Integer> weightOf = new java.util.HashMap<>();
            for (long id : weighted) {
                weightOf.put(id, weightOf(url, pg.user(), id));
            }
            phase("weighted-low", 2, seconds, rosters, weighted, group, weightOf);
            phase("weighted-high", 30, seconds, rosters, weighted, group, weightOf);
        } finally {
            rosters.forEach(Roster::close);
            redis.kill();
            pg.kill();
        }
    }

    /** Three openai accounts of weights 1, 2 and 4 in a group of their own; returns the group's id. */
    private static long weightedGroup(String url, String user) throws java.sql.SQLException {
        try (Connection c = DriverManager.getConnection(url, user, "");
                Statement st = c.createStatement()) {
            long group;
            try (java.sql.ResultSet rs =
                    st.executeQuery("INSERT INTO groups (name, platform) VALUES ('weighted', 'openai') RETURNING id")) {
                rs.next();
                group = rs.getLong(1);
            }
            for (int w : WEIGHTS) {
                st.execute("WITH a AS (INSERT INTO accounts (name, platform, type, concurrency, weight) VALUES ('w-"
                        + w + "', 'openai', 'apikey', " + WEIGHTED_CONCURRENCY + ", " + w
                        + ") RETURNING id) INSERT INTO account_groups (account_id, group_id) SELECT id, " + group
                        + " FROM a");
            }
            return group;
        }
    }

    private static int weightOf(String url, String user, long id) throws java.sql.SQLException {
        try (Connection c = DriverManager.getConnection(url, user, "");
                Statement st = c.createStatement();
                java.sql.ResultSet rs = st.executeQuery("SELECT weight FROM accounts WHERE id = " + id)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Waits until every instance lists {@code n} accounts in {@code group}'s openai bucket; returns their ids. */
    private static List<Long> awaitBucket(List<Roster> rosters, long group, int n) {
        for (Roster r : rosters) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (r.list(group, "openai", false).accounts().size() != n) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("group " + group + "'s bucket did not reach the near cache");
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
            }
        }
        return rosters.getFirst().list(group, "openai", false).accounts().stream()
                .map(a -> a.id())
                .toList();
    }

    /**
     * One phase.
     *
     * @param group the group requests name, or {@code null} for none (group 0)
     * @param weights the accounts' weights, to print each one's in-flight share beside its weight's share;
     *     {@code null} for the sessions phases (which then print the sticky hit rate)
     */
    private static void phase(
            String name,
            int clients,
            int seconds,
            List<Roster> rosters,
            List<Long> ids,
            @Nullable Long group,
            @Nullable Map<Long, Integer> weights)
            throws InterruptedException {
        AtomicBoolean running = new AtomicBoolean(true);
        LongAdder requests = new LongAdder();
        LongAdder sessionFollowUps = new LongAdder();
        LongAdder stayed = new LongAdder();
        LongAdder waits = new LongAdder();
        LongAdder none = new LongAdder();
        Map<String, Long> lastAccount = new ConcurrentHashMap<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < clients; t++) {
            int client = t;
            Roster roster = rosters.get(t % rosters.size());
            Thread th = new Thread(
                    () -> {
                        Random rnd = new Random(client);
                        int i = 0;
                        while (running.get()) {
                            String session = weights != null || i % 5 == 4
                                    ? null
                                    : name + "-c" + client + "-s" + (i % SESSIONS_PER_CLIENT);
                            i++;
                            SelectRequest req =
                                    SelectRequest.of(group, "openai").withSession(session);
                            Selection s = roster.select(req);
                            while (s instanceof Selection.Wait w) {
                                waits.increment();
                                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                                s = roster.select(req.withWaitTicket(w.ticket()));
                            }
                            if (!(s instanceof Selection.Acquired a)) {
                                none.increment();
                                continue;
                            }
                            requests.increment();
                            if (session != null) {
                                Long prev = lastAccount.put(session, a.card().id());
                                if (prev != null) {
                                    sessionFollowUps.increment();
                                    if (prev == a.card().id()) {
                                        stayed.increment();
                                    }
                                }
                            }
                            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(5_000 + rnd.nextInt(10_000)));
                            roster.release(a.lease());
                        }
                    },
                    "client-" + t);
            threads.add(th);
        }
        Map<Long, AtomicLong> sums = new ConcurrentHashMap<>();
        ids.forEach(id -> sums.put(id, new AtomicLong()));
        long samples = 0;
        long start = System.nanoTime();
        threads.forEach(Thread::start);
        // One second of ramp-up before sampling.
        LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1));
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long requestsAtStart = requests.sum();
        while (System.nanoTime() < end) {
            Map<Long, AccountLoad> loads = rosters.getFirst().selectionStore().loads(ids);
            loads.forEach((id, l) -> sums.get(id).addAndGet(l.inFlight()));
            samples++;
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
        long served = requests.sum() - requestsAtStart;
        running.set(false);
        for (Thread th : threads) {
            th.join();
        }
        double max = 0;
        double min = Double.MAX_VALUE;
        StringBuilder per = new StringBuilder();
        for (long id : ids) {
            double avg = (double) sums.get(id).get() / samples;
            max = Math.max(max, avg);
            min = Math.min(min, avg);
            per.append(String.format(" %.2f", avg));
        }
        if (weights != null) {
            double total = 0;
            int weightTotal = 0;
            for (long id : ids) {
                total += (double) sums.get(id).get() / samples;
                weightTotal += weights.get(id);
            }
            StringBuilder shares = new StringBuilder();
            double worst = 0;
            for (long id : ids) {
                double share = (double) sums.get(id).get() / samples / total;
                double want = (double) weights.get(id) / weightTotal;
                worst = Math.max(worst, Math.abs(share - want) / want);
                shares.append(String.format(" w%d %.3f (weight share %.3f)", weights.get(id), share, want));
            }
            System.out.printf(
                    "%s: %d clients, %d samples, in-flight share per account:%s; largest relative deviation"
                            + " %.1f%%; %.0f requests/s; %d waits; %d none%n",
                    name, clients, samples, shares, 100 * worst, served / (double) seconds, waits.sum(), none.sum());
            return;
        }
        System.out.printf(
                "%s: %d clients, %d samples, in-flight average per account:%s; spread max/min %.3f;"
                        + " sticky hit rate %.2f%% (%d/%d follow-ups); %.0f requests/s; %d waits; %d none (%.1f s)%n",
                name,
                clients,
                samples,
                per,
                max / min,
                100.0 * stayed.sum() / Math.max(1, sessionFollowUps.sum()),
                stayed.sum(),
                sessionFollowUps.sum(),
                served / (double) seconds,
                waits.sum(),
                none.sum(),
                (System.nanoTime() - start) / 1e9);
    }
}
