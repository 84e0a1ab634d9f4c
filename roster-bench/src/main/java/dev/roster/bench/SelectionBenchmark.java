package dev.roster.bench;

import dev.roster.Roster;
import dev.roster.core.selection.SelectRequest;
import dev.roster.core.selection.Selection;
import dev.roster.embedded.EmbeddedPostgres;
import dev.roster.embedded.EmbeddedRedis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The select latency through the library, beside a raw Redis {@code GET} in the same run against
 * the same Redis. The servers are an embedded PostgreSQL 17 and Redis 7 started in setup, on loopback; 20
 * equal openai accounts (concurrency 1000, so a slot is always free) are written with plain SQL and reach
 * the near cache through capture, outbox and replay. Arms, one thread:
 *
 * <ul>
 *   <li>{@code select}: {@code Roster.select} without a session (near cache, then the shared store: loads,
 *       last-used, slot acquisition, last-used update); the slot is released outside the measurement;
 *   <li>{@code selectSticky}: the same with a session bound to its account (sticky lookup, refresh);
 *   <li>{@code selectAndRelease}: {@code select} plus {@code release}, what a gateway pays per request;
 *   <li>{@code loads} and {@code lastUsed}: the two batch reads select makes over the 20 candidates, alone
 *       (where its time goes);
 *   <li>{@code redisGet}: one {@code GET} of a 16-byte value on a Lettuce connection of its own (the
 *       baseline).
 * </ul>
 *
 * <p>Before the measurement, the trial counts the Redis commands one select costs, over {@value #COUNTED}
 * selects of each kind (lines starting {@code round trips per select}): the commands the Roster sent, by
 * a listener on its own Lettuce client (a script is one command, so this is the round trips when nothing
 * is pipelined; the sent-by-command line splits them, and a sticky select's binding refresh is one of
 * them), and every command Redis ran by name, scripts' inner ones included ({@code INFO commandstats}
 * before and after). Background work of the library (near-cache
 * checks, serving digests) runs meanwhile and is included, so the figure is an upper bound; a select
 * that pipelines several commands counts each one.
 *
 * <p>Run: {@code java -jar roster-bench/target/benchmarks.jar SelectionBenchmark}; the counts alone:
 * {@code ... SelectionBenchmark.redisGet -f 0 -wi 0 -i 1 -r 1s}. Results are in {@code
 * docs/performance.md}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 4)
public class SelectionBenchmark {
    static final int ACCOUNTS = 20;
    /** Selects per kind whose Redis commands the trial counts. */
    static final int COUNTED = 200;

    private static final SelectRequest PLAIN = SelectRequest.of(null, "openai");
    private static final SelectRequest STICKY = PLAIN.withSession("bench-session");
    private static final byte[] KEY = "bench:get".getBytes(StandardCharsets.UTF_8);

    private Path dataDir;
    private EmbeddedPostgres pg;
    private EmbeddedRedis redis;
    private Roster roster;
    private RedisClient client;
    /** The Roster's own Lettuce client, whose listener counts the commands the Roster sends. */
    private RedisClient rosterClient;

    private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.LongAdder> sent =
            new java.util.concurrent.ConcurrentHashMap<>();
    private StatefulRedisConnection<byte[], byte[]> connection;
    private RedisCommands<byte[], byte[]> commands;
    private Selection.Acquired held;
    private java.util.List<Long> ids;

    @Setup(Level.Trial)
    public void setUp() throws IOException, SQLException {
        dataDir = Files.createTempDirectory("roster-bench-selection-");
        pg = EmbeddedPostgres.builder(dataDir.resolve("pg")).ephemeral().build().start();
        redis = EmbeddedRedis.builder().dataDir(dataDir.resolve("redis")).build();
        redis.start();
        String url = pg.jdbcUrl("postgres");
        rosterClient = RedisClient.create();
        rosterClient.addListener(new io.lettuce.core.event.command.CommandListener() {
            @Override
            public void commandStarted(io.lettuce.core.event.command.CommandStartedEvent event) {
                sent.computeIfAbsent(
                                event.getCommand().getType().toString(),
                                k -> new java.util.concurrent.atomic.LongAdder())
                        .increment();
            }
        });
        roster = Roster.builder()
                .jdbc(url, pg.user(), "")
                .redisClient(rosterClient, redis.uri())
                .keyPrefix("bench:")
                .build();
        try (Connection c = DriverManager.getConnection(url, pg.user(), "");
                Statement st = c.createStatement()) {
            st.execute("INSERT INTO accounts (name, platform, type, concurrency) SELECT 'sel-' || i, 'openai',"
                    + " 'apikey', 1000 FROM generate_series(1, " + ACCOUNTS + ") i");
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (roster.list(null, "openai", false).accounts().size() != ACCOUNTS) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the bucket did not reach the near cache within 60 s");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
        ids = roster.list(null, "openai", false).accounts().stream()
                .map(a -> a.id())
                .toList();
        client = RedisClient.create(redis.uri());
        connection = client.connect(ByteArrayCodec.INSTANCE);
        commands = connection.sync();
        commands.set(KEY, "0123456789abcdef".getBytes(StandardCharsets.UTF_8));
        if (!(roster.select(STICKY) instanceof Selection.Acquired a)) {
            throw new IllegalStateException("select did not acquire");
        }
        roster.release(a.lease());
        countCommands("select", () -> roster.release(((Selection.Acquired) roster.select(PLAIN)).lease()), true);
        countCommands("selectSticky", () -> roster.release(((Selection.Acquired) roster.select(STICKY)).lease()), true);
        countCommands(
                "selectAndRelease", () -> roster.release(((Selection.Acquired) roster.select(PLAIN)).lease()), false);
    }

    /**
     * Prints the Redis commands per call of {@code run}, from {@code INFO commandstats} around {@value
     * #COUNTED} calls. With {@code minusRelease}, the commands of as many releases (counted alone) are taken
     * off, so the figure is the select's.
     */
    private void countCommands(String kind, Runnable run, boolean minusRelease) {
        java.util.Map<String, Long> release = java.util.Map.of();
        if (minusRelease) {
            java.util.List<Selection.Acquired> heldNow = new java.util.ArrayList<>();
            for (int i = 0; i < COUNTED; i++) {
                heldNow.add((Selection.Acquired) roster.select(PLAIN));
            }
            java.util.Map<String, Long> before = commandStats();
            heldNow.forEach(h -> roster.release(h.lease()));
            release = minus(commandStats(), before);
        }
        double releaseCalls = 0;
        if (minusRelease) {
            java.util.List<Selection.Acquired> heldNow = new java.util.ArrayList<>();
            for (int i = 0; i < COUNTED; i++) {
                heldNow.add((Selection.Acquired) roster.select(PLAIN));
            }
            long r0 = sentTotal();
            heldNow.forEach(h -> roster.release(h.lease()));
            releaseCalls = (sentTotal() - r0) / (double) COUNTED;
        }
        // Commands the Roster sent (its client's listener; a script is one command): the round trips when
        // nothing is pipelined.
        java.util.Map<String, Long> sent0 = sentByType();
        for (int i = 0; i < COUNTED; i++) {
            run.run();
        }
        java.util.Map<String, Long> sentNow = minus(sentByType(), sent0);
        double clientCalls =
                sentNow.values().stream().mapToLong(Long::longValue).sum() / (double) COUNTED - releaseCalls;
        StringBuilder sentPer = new StringBuilder();
        for (java.util.Map.Entry<String, Long> e : new java.util.TreeMap<>(sentNow).entrySet()) {
            if (e.getValue() > 0) {
                sentPer.append(' ')
                        .append(e.getKey().toLowerCase(java.util.Locale.ROOT))
                        .append('=')
                        .append(String.format("%.2f", e.getValue() / (double) COUNTED));
            }
        }
        // Every command run, also inside scripts, by name (INFO commandstats around another series).
        java.util.Map<String, Long> before = commandStats();
        for (int i = 0; i < COUNTED; i++) {
            run.run();
        }
        java.util.Map<String, Long> used = minus(commandStats(), before);
        long total = 0;
        StringBuilder per = new StringBuilder();
        for (java.util.Map.Entry<String, Long> e : new java.util.TreeMap<>(used).entrySet()) {
            long n = e.getValue() - release.getOrDefault(e.getKey(), 0L);
            if (n > 0) {
                total += n;
                per.append(' ').append(e.getKey()).append('=').append(String.format("%.2f", n / (double) COUNTED));
            }
        }
        System.out.printf(
                "round trips per select (%s): %.2f commands sent per call over %d calls (%s);"
                        + " INFO commandstats: %.2f commands run per call, scripts' inner ones included:%s%n",
                kind,
                clientCalls,
                COUNTED,
                minusRelease ? "releases counted apart and taken off" : "release included",
                total / (double) COUNTED,
                per);
        System.out.printf(
                "round trips per select (%s), sent by command%s:%s%n",
                kind, minusRelease ? " (the releases of that series included)" : "", sentPer);
    }

    private long sentTotal() {
        return sent.values().stream()
                .mapToLong(java.util.concurrent.atomic.LongAdder::sum)
                .sum();
    }

    private java.util.Map<String, Long> sentByType() {
        java.util.Map<String, Long> out = new java.util.HashMap<>();
        sent.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /** Calls per command from {@code INFO commandstats}, without the INFO calls themselves. */
    private java.util.Map<String, Long> commandStats() {
        java.util.Map<String, Long> out = new java.util.HashMap<>();
        for (String line : commands.info("commandstats").split("\\r?\\n")) {
            if (!line.startsWith("cmdstat_")) {
                continue;
            }
            String name = line.substring("cmdstat_".length(), line.indexOf(':'));
            int at = line.indexOf("calls=") + "calls=".length();
            int end = line.indexOf(',', at);
            if (!name.equals("info")) {
                out.put(name, Long.parseLong(line.substring(at, end < 0 ? line.length() : end)));
            }
        }
        return out;
    }

    private static java.util.Map<String, Long> minus(
            java.util.Map<String, Long> after, java.util.Map<String, Long> before) {
        java.util.Map<String, Long> out = new java.util.HashMap<>();
        after.forEach((k, v) -> out.put(k, v - before.getOrDefault(k, 0L)));
        return out;
    }

    @TearDown(Level.Invocation)
    public void releaseHeld() {
        if (held != null) {
            roster.release(held.lease());
            held = null;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        roster.close();
        rosterClient.shutdown(0, 1, TimeUnit.SECONDS);
        connection.close();
        client.shutdown(0, 1, TimeUnit.SECONDS);
        redis.kill();
        pg.kill();
    }

    /** {@code Roster.select} without a session; the slot is released after the measurement. */
    @Benchmark
    public Selection select() {
        Selection s = roster.select(PLAIN);
        held = (Selection.Acquired) s;
        return s;
    }

    /** {@code Roster.select} for a session bound to its account. */
    @Benchmark
    public Selection selectSticky() {
        Selection s = roster.select(STICKY);
        held = (Selection.Acquired) s;
        return s;
    }

    /** What a gateway pays per request: select, then release. */
    @Benchmark
    public boolean selectAndRelease() {
        Selection.Acquired a = (Selection.Acquired) roster.select(PLAIN);
        return roster.release(a.lease());
    }

    /** Baseline: one raw GET on the same Redis. */
    @Benchmark
    public byte[] redisGet() {
        return commands.get(KEY);
    }

    /** Part of select: the pipelined load read (slots, waiters, cooldowns) of the 20 candidates. */
    @Benchmark
    public Object loads() {
        return roster.selectionStore().loads(ids);
    }

    /** Part of select: the last-used read of the 20 candidates (Redis MGET merged with the local view). */
    @Benchmark
    public Object lastUsed() {
        return roster.lastUsed(ids);
    }
}
