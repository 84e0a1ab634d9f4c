package dev.roster.bench;

import dev.roster.Roster;
import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.service.ListResult;
import dev.roster.embedded.EmbeddedPostgres;
import dev.roster.embedded.EmbeddedRedis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
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
 * The near-cache hot path on one 200-card bucket (group 7, anthropic, mixed), in one run: {@code
 * Roster.list} answered by the near cache; the same call on a Roster with the near cache disabled (one
 * Redis GET of the snapshot plus decoding: the Redis-only path); the seed's five-command pattern
 * ({@link SeedPattern}, the baseline arm of {@link SnapshotReadBenchmark}) over the same cards in the
 * same Redis; and a raw {@link ConcurrentHashMap} lookup of the same list (the floor). The servers are
 * an embedded PostgreSQL 17 and Redis 7 started in setup, on loopback; the accounts are written with
 * plain SQL and reach Redis through capture, outbox and replay, as in production.
 *
 * <p>Run: {@code java -jar roster-bench/target/benchmarks.jar NearCacheBenchmark -prof gc}. Results are
 * in {@code docs/performance.md}.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.SampleTime, Mode.Throughput})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class NearCacheBenchmark {
    static final int CARDS = 200;
    private static final Bucket BUCKET = Bucket.of(7, "anthropic", dev.roster.core.Mode.MIXED);

    private Path dataDir;
    private EmbeddedPostgres pg;
    private EmbeddedRedis redis;
    private Roster near;
    private Roster redisOnly;
    private RedisClient client;
    private StatefulRedisConnection<byte[], byte[]> connection;
    private RedisCommands<byte[], byte[]> commands;
    private SeedPattern seed;
    private final ConcurrentHashMap<Bucket, List<AccountCard>> map = new ConcurrentHashMap<>();

    @Setup(Level.Trial)
    public void setUp() throws IOException, SQLException {
        dataDir = Files.createTempDirectory("roster-bench-nearcache-");
        pg = EmbeddedPostgres.builder(dataDir.resolve("pg")).ephemeral().build().start();
        redis = EmbeddedRedis.builder().dataDir(dataDir.resolve("redis")).build();
        redis.start();
        String url = pg.jdbcUrl("postgres");

        near = Roster.builder()
                .jdbc(url, pg.user(), "")
                .redisUri(redis.uri())
                .keyPrefix("bench:")
                .build();
        try (Connection c = DriverManager.getConnection(url, pg.user(), "");
                Statement st = c.createStatement()) {
            // The same shape as BenchData.cards: 200 anthropic accounts in groups 7 and 12, three
            // mapped models, an expiry with auto-pause, priorities 0..9 and link priorities 0..4.
            st.execute(
                    "INSERT INTO groups (id, name, platform) VALUES (7, 'g7', 'anthropic'), (12, 'g12', 'anthropic')");
            st.execute("INSERT INTO accounts (id, name, platform, type, priority, credentials, expires_at,"
                    + " auto_pause_on_expired) SELECT 1000 + i, 'claude-max-pool-account-' || i, 'anthropic',"
                    + " CASE WHEN i % 3 = 0 THEN 'apikey' ELSE 'oauth' END, i % 10,"
                    + " '{\"model_mapping\":{\"claude-sonnet-4-5\":\"a\",\"claude-opus-4-1\":\"b\",\"claude-haiku-4-5\":\"c\"}}',"
                    + " now() + interval '30 days', true FROM generate_series(1, " + CARDS + ") i");
            st.execute("INSERT INTO account_groups (account_id, group_id, priority)"
                    + " SELECT 1000 + i, 7, i % 5 FROM generate_series(1, " + CARDS + ") i"
                    + " UNION ALL SELECT 1000 + i, 12, 1 FROM generate_series(1, " + CARDS + ") i");
        }
        // Wait (outside the measurement) until replay has published the bucket and the near cache has it.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                ListResult r = near.list(7L, "anthropic", false);
                if (r.accounts().size() == CARDS && r.source() == ListResult.Source.NEAR_CACHE) {
                    break;
                }
            } catch (RuntimeException notYet) {
                // not ready
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the bucket did not reach the near cache within 60 s");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
        redisOnly = Roster.builder()
                .jdbc(url, pg.user(), "")
                .redisUri(redis.uri())
                .keyPrefix("bench:")
                .config(ServiceConfig.DEFAULTS.withNearCache(
                        ServiceConfig.DEFAULTS.nearCache().withEnabled(false)))
                .build();
        List<AccountCard> cards = near.list(7L, "anthropic", false).accounts();
        ListResult viaRedis = redisOnly.list(7L, "anthropic", false);
        if (viaRedis.source() != ListResult.Source.PROJECTION
                || !viaRedis.accounts().equals(cards)) {
            throw new IllegalStateException("the Redis-only arm does not read the same snapshot: " + viaRedis.source());
        }
        map.put(BUCKET, cards);

        client = RedisClient.create(redis.uri());
        connection = client.connect(ByteArrayCodec.INSTANCE);
        commands = connection.sync();
        seed = new SeedPattern(BUCKET.text());
        seed.write(commands, cards);
        List<AccountCard> viaSeed = seed.read(commands);
        if (viaSeed == null
                || !viaSeed.stream()
                        .map(AccountCard::id)
                        .toList()
                        .equals(cards.stream().map(AccountCard::id).toList())) {
            throw new IllegalStateException("seed and near-cache arms disagree");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        redisOnly.close();
        near.close();
        connection.close();
        client.shutdown(0, 1, TimeUnit.SECONDS);
        redis.kill();
        pg.kill();
    }

    /** {@code Roster.list} on a warm bucket: the near cache. */
    @Benchmark
    public ListResult nearCacheHit() {
        return near.list(7L, "anthropic", false);
    }

    /** {@code Roster.list} with the near cache disabled: one GET of the snapshot and decoding 200 cards. */
    @Benchmark
    public ListResult redisOnly() {
        return redisOnly.list(7L, "anthropic", false);
    }

    /** Baseline: the seed's GET ready, GET active, ZRANGE, MGET documents, MGET last-used, JSON decode. */
    @Benchmark
    public List<AccountCard> seedFiveCommands() throws IOException {
        return seed.read(commands);
    }

    /** Floor: a {@link ConcurrentHashMap} lookup of the same list, nothing else. */
    @Benchmark
    public List<AccountCard> concurrentHashMapFloor() {
        return map.get(BUCKET);
    }
}
