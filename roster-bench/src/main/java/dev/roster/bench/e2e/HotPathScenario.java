package dev.roster.bench.e2e;

import dev.roster.Roster;
import dev.roster.bench.SeedPattern;
import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.config.ServiceConfig;
import dev.roster.server.app.BackendSource;
import dev.roster.server.app.LibraryBackend;
import dev.roster.server.config.RosterConfig;
import dev.roster.server.http.HttpServer;
import dev.roster.server.http.Metrics;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Hot path under load, every arm in one run against the same stores and buckets: {@code Roster.list}
 * in-process with and without the near cache; {@code GET /v1/schedulable} of the real HTTP server
 * (in this JVM, over loopback, the JDK's HTTP client) with and without the near cache; and the seed's
 * five-command Redis pattern over the same cards. Each arm runs {@code threads} closed-loop clients on
 * random group buckets (single mode) for {@code seconds}, while a writer commits 20 changes/s, so
 * replay and near-cache invalidation run during the measurement.
 */
final class HotPathScenario {
    record Size(int accounts, int groups, int threads, double warmSeconds, double seconds) {
        static final Size FULL = new Size(10_000, 100, 4, 3, 10);
        static final Size TINY = new Size(400, 12, 2, 0.3, 0.7);
    }

    final List<String> names = new ArrayList<>();
    final List<Histogram> histograms = new ArrayList<>();

    interface Op {
        int call(long group, String platform) throws Exception;
    }

    void run(Size size, Report report, String command) throws Exception {
        Pool pool = new Pool(size.accounts(), size.groups());
        try (Stores s = Stores.start("hotpath")) {
            pool.insert(s);
            ServiceConfig noNear = ServiceConfig.DEFAULTS.withNearCache(
                    ServiceConfig.DEFAULTS.nearCache().withEnabled(false));
            try (Roster near = s.roster(ServiceConfig.DEFAULTS).build();
                    Roster redisOnly = s.roster(noNear).build();
                    HttpServer httpNear = server(near);
                    HttpServer httpRedis = server(redisOnly)) {
                if (!Stores.await(() -> near.ready() && redisOnly.ready(), 120)) {
                    throw new IllegalStateException("not ready within 120 s");
                }
                int portNear = httpNear.start();
                int portRedis = httpRedis.start();
                // The seed's documents for every group bucket, from the same cards.
                RedisClient client = RedisClient.create(s.redis.uri());
                List<StatefulRedisConnection<byte[], byte[]>> conns = new ArrayList<>();
                SeedPattern[] seeds = new SeedPattern[size.groups() + 1];
                long cardsTotal = 0;
                try (StatefulRedisConnection<byte[], byte[]> c = client.connect(ByteArrayCodec.INSTANCE)) {
                    for (int g = 1; g <= size.groups(); g++) {
                        String platform = Pool.PLATFORMS.get((g - 1) % 4);
                        List<AccountCard> cards =
                                near.list((long) g, platform, false).accounts();
                        cardsTotal += cards.size();
                        seeds[g] = new SeedPattern(
                                Bucket.of(g, platform, Mode.SINGLE).text());
                        seeds[g].write(c.sync(), cards);
                    }
                }
                for (int i = 0; i < size.threads(); i++) {
                    conns.add(client.connect(ByteArrayCodec.INSTANCE));
                }
                HttpClient http = HttpClient.newBuilder()
                        .connectTimeout(Duration.ofSeconds(5))
                        .build();
                AtomicBoolean writing = new AtomicBoolean(true);
                java.util.concurrent.atomic.AtomicLong changes = new java.util.concurrent.atomic.AtomicLong();
                long writerStart = System.nanoTime();
                Thread writer =
                        Thread.ofPlatform().name("bench-writer").start(() -> paceWriter(s, pool, writing, changes));
                Report.Section sec = report.section("Hot path under load")
                        .goal("Context figures (no numeric goal): every arm in the same run, next to the seed's"
                                + " five-command Redis pattern.")
                        .command(command)
                        .table(
                                "arm (same run)",
                                "threads",
                                "requests",
                                "requests/s",
                                "p50",
                                "p99",
                                "p99.9",
                                "max",
                                "load avg (1/5/15)");
                double writerSeconds;
                try {
                    arm(
                            sec,
                            "in-process `Roster.list`, near cache",
                            size,
                            (g, p) -> near.list(g, p, false).accounts().size());
                    arm(
                            sec,
                            "in-process `Roster.list`, Redis only (near cache off)",
                            size,
                            (g, p) -> redisOnly.list(g, p, false).accounts().size());
                    ThreadLocal<Integer> idx = new ThreadLocal<>();
                    AtomicLong nextConn = new AtomicLong();
                    arm(sec, "seed five-command pattern (baseline), same cards", size, (g, p) -> {
                        Integer i = idx.get();
                        if (i == null) {
                            i = (int) (nextConn.getAndIncrement() % conns.size());
                            idx.set(i);
                        }
                        return seeds[(int) g].read(conns.get(i).sync()).size();
                    });
                    arm(sec, "HTTP `GET /v1/schedulable`, near cache", size, (g, p) -> get(http, portNear, g, p));
                    arm(sec, "HTTP `GET /v1/schedulable`, Redis only", size, (g, p) -> get(http, portRedis, g, p));
                    GatewayCopies copies = new GatewayCopies(size.groups());
                    arm(
                            sec,
                            "HTTP conditional GET (gateway near cache: If-None-Match, 304 while unchanged)",
                            size,
                            (g, p) -> conditionalGet(http, portNear, copies, g, p));
                    GatewayCopies keptCopies = new GatewayCopies(size.groups());
                    List<KeepAliveHttp> clients = new java.util.concurrent.CopyOnWriteArrayList<>();
                    ThreadLocal<KeepAliveHttp> own = ThreadLocal.withInitial(() -> {
                        KeepAliveHttp k = new KeepAliveHttp("127.0.0.1", portNear);
                        clients.add(k);
                        return k;
                    });
                    try {
                        arm(
                                sec,
                                "HTTP conditional GET, keep-alive client per thread (as a gateway's own HTTP/1.1"
                                        + " client)",
                                size,
                                (g, p) -> conditionalGet(own.get(), keptCopies, g, p));
                    } finally {
                        clients.forEach(KeepAliveHttp::close);
                    }
                } finally {
                    writing.set(false);
                    writer.join();
                    writerSeconds = (System.nanoTime() - writerStart) / 1e9;
                    for (StatefulRedisConnection<byte[], byte[]> c : conns) {
                        c.close();
                    }
                    client.shutdown(0, 1, TimeUnit.SECONDS);
                }
                sec.note(Report.f(
                        "Buckets: the single-mode bucket of each of %d groups (%.0f cards on average), picked at random"
                                + " per request; a writer paced at 20 priority changes/s committed %,d in %.0f s (%.1f/s)."
                                + " Closed loop: each"
                                + " thread sends its next request when the previous one is answered, so requests/s is"
                                + " what %d threads get on this machine; the HTTP client runs in the same JVM and shares"
                                + " the machine's %d cores with the server. Latency CDFs: `hotpath-cdf.png`.",
                        size.groups(),
                        cardsTotal / (double) size.groups(),
                        changes.get(),
                        writerSeconds,
                        changes.get() / writerSeconds,
                        size.threads(),
                        Runtime.getRuntime().availableProcessors()));
                sec.note("The conditional-GET arms are a gateway with its own near cache (decision H7): per bucket it"
                        + " keeps the last body and its ETag and sends If-None-Match, so an unchanged bucket answers"
                        + " 304 with no body; goal: >= 10x the seed five-command arm in the same run. The first uses"
                        + " the JDK's HttpClient, whose per-request machinery in this JVM costs more than the answer;"
                        + " the second a plain HTTP/1.1 keep-alive connection per thread (`KeepAliveHttp`), which is"
                        + " what a gateway's own client (Go's net/http, say) does per request.");
                report.add(sec);
            }
        }
    }

    private void arm(Report.Section sec, String name, Size size, Op op) throws Exception {
        Recorder rec = new Recorder(3);
        AtomicBoolean measuring = new AtomicBoolean(false);
        AtomicBoolean run = new AtomicBoolean(true);
        AtomicLong errors = new AtomicLong();
        List<Thread> ts = new ArrayList<>();
        for (int k = 0; k < size.threads(); k++) {
            int seed = k;
            ts.add(Thread.ofPlatform().name("bench-client-" + k).start(() -> {
                SplittableRandom rnd = new SplittableRandom(seed);
                while (run.get()) {
                    long g = 1 + rnd.nextInt(size.groups());
                    String platform = Pool.PLATFORMS.get((int) ((g - 1) % 4));
                    long t = System.nanoTime();
                    try {
                        op.call(g, platform);
                        if (measuring.get()) {
                            rec.recordValue(System.nanoTime() - t);
                        }
                    } catch (Exception e) {
                        errors.incrementAndGet();
                    }
                }
            }));
        }
        park(size.warmSeconds());
        rec.reset();
        measuring.set(true);
        long t0 = System.nanoTime();
        park(size.seconds());
        Histogram h = rec.getIntervalHistogram();
        double secs = (System.nanoTime() - t0) / 1e9;
        measuring.set(false);
        run.set(false);
        for (Thread t : ts) {
            t.join();
        }
        names.add(name);
        histograms.add(h);
        sec.row(
                name + (errors.get() > 0 ? " (" + errors.get() + " errors)" : ""),
                size.threads(),
                Report.n(h.getTotalCount()),
                Report.n(h.getTotalCount() / secs),
                Report.us(h.getValueAtPercentile(50)),
                Report.us(h.getValueAtPercentile(99)),
                Report.us(h.getValueAtPercentile(99.9)),
                Report.us(h.getMaxValue()),
                Machine.load());
    }

    private static int get(HttpClient http, int port, long g, String platform) throws Exception {
        HttpResponse<byte[]> resp = http.send(
                HttpRequest.newBuilder(URI.create(
                                "http://127.0.0.1:" + port + "/v1/schedulable?group=" + g + "&platform=" + platform))
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
        if (resp.statusCode() != 200) {
            throw new IllegalStateException("HTTP " + resp.statusCode());
        }
        return resp.body().length;
    }

    /**
     * What a gateway with its own near cache keeps per bucket: the last body and its entity tag. A slot
     * is one immutable pair, replaced whole, so concurrent clients never pair a body with another tag.
     */
    static final class GatewayCopies {
        record Copy(String etag, byte[] body) {}

        final java.util.concurrent.atomic.AtomicReferenceArray<Copy> byGroup;

        GatewayCopies(int groups) {
            byGroup = new java.util.concurrent.atomic.AtomicReferenceArray<>(groups + 1);
        }
    }

    /**
     * A gateway's read of a bucket: {@code If-None-Match} with the tag it holds; a {@code 304} means its
     * copy is current, a {@code 200} replaces the copy. Returns the size of the body it now holds.
     */
    private static int conditionalGet(HttpClient http, int port, GatewayCopies copies, long g, String platform)
            throws Exception {
        GatewayCopies.Copy held = copies.byGroup.get((int) g);
        HttpRequest.Builder b = HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/v1/schedulable?group=" + g + "&platform=" + platform));
        if (held != null) {
            b.header("If-None-Match", held.etag());
        }
        HttpResponse<byte[]> resp = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        if (resp.statusCode() == 304 && held != null) {
            return held.body().length;
        }
        if (resp.statusCode() != 200) {
            throw new IllegalStateException("HTTP " + resp.statusCode());
        }
        String tag = resp.headers().firstValue("ETag").orElse(null);
        if (tag != null) {
            copies.byGroup.set((int) g, new GatewayCopies.Copy(tag, resp.body()));
        }
        return resp.body().length;
    }

    /** {@link #conditionalGet(HttpClient, int, GatewayCopies, long, String)} on a {@link KeepAliveHttp}. */
    private static int conditionalGet(KeepAliveHttp http, GatewayCopies copies, long g, String platform)
            throws Exception {
        GatewayCopies.Copy held = copies.byGroup.get((int) g);
        KeepAliveHttp.Response resp =
                http.get("/v1/schedulable?group=" + g + "&platform=" + platform, held == null ? null : held.etag());
        if (resp.status() == 304 && held != null) {
            return held.body().length;
        }
        if (resp.status() != 200) {
            throw new IllegalStateException("HTTP " + resp.status());
        }
        if (resp.etag() != null) {
            copies.byGroup.set((int) g, new GatewayCopies.Copy(resp.etag(), resp.body()));
        }
        return resp.body().length;
    }

    /** The HTTP server over {@code roster} on a free loopback port, no tokens, default watch limits; not started. */
    static HttpServer server(Roster roster) {
        LibraryBackend backend = new LibraryBackend(roster);
        BackendSource src = BackendSource.of(backend);
        RosterConfig.Server cfg = new RosterConfig.Server(
                "127.0.0.1", 0, "", "", false, 1024, Duration.ofSeconds(5), 1 << 20, Duration.ofSeconds(2));
        return new HttpServer(cfg, src, new Metrics(src));
    }

    /** 20 priority changes per second on random accounts, until {@code writing} turns false. */
    static void paceWriter(Stores s, Pool pool, AtomicBoolean writing, java.util.concurrent.atomic.AtomicLong changes) {
        SplittableRandom rnd = new SplittableRandom(42);
        long period = TimeUnit.MILLISECONDS.toNanos(50);
        long next = System.nanoTime();
        int p = 2_000_000;
        try (var c = s.connect();
                var ps = c.prepareStatement("UPDATE accounts SET priority = ? WHERE id = ?")) {
            while (writing.get()) {
                long w = next - System.nanoTime();
                if (w > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(w);
                }
                next += period;
                ps.setInt(1, p++);
                ps.setLong(2, 1 + rnd.nextInt(pool.accounts()));
                ps.executeUpdate();
                changes.incrementAndGet();
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void park(double seconds) {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long w;
        while ((w = end - System.nanoTime()) > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(w);
        }
    }
}
