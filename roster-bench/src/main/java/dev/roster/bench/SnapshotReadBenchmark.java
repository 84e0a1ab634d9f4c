package dev.roster.bench;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.Snapshot;
import dev.roster.embedded.EmbeddedRedis;
import dev.roster.redis.RedisConnectionOptions;
import dev.roster.redis.RedisProjection;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
 * Reading a 200-card bucket from Redis: through the projection port (one GET of the
 * self-contained snapshot plus decoding), against the seed's five-command pattern ({@link
 * SeedPattern}) and a raw GET of the same snapshot key without decoding (the floor: one round trip
 * moving the same bytes). All three arms use one embedded Redis started in setup, on loopback, in the
 * same run.
 *
 * <p>Run: {@code java -jar roster-bench/target/benchmarks.jar SnapshotReadBenchmark -prof gc}. Results
 * are in {@code docs/performance.md}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 3, time = 5)
public class SnapshotReadBenchmark {
    static final int CARDS = 200;
    private static final Bucket BUCKET = Bucket.of(7, "anthropic", dev.roster.core.Mode.MIXED);

    private Path dataDir;
    private EmbeddedRedis redis;
    private RedisProjection projection;
    private RedisClient client;
    private StatefulRedisConnection<byte[], byte[]> connection;
    private RedisCommands<byte[], byte[]> commands;
    private SeedPattern seed;
    private byte[] snapshotKey;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dataDir = Files.createTempDirectory("roster-bench-redis-");
        redis = EmbeddedRedis.builder().dataDir(dataDir).build();
        redis.start();
        List<AccountCard> cards = BenchData.cards(CARDS);

        projection = RedisProjection.connect(RedisConnectionOptions.of(redis.uri()), "bench:", Duration.ofSeconds(60));
        projection.putCards(cards);
        projection.publish(projection.allocateVersion(BUCKET).orElseThrow(), "benchgen", cards);
        snapshotKey = projection.keys().snapshot(BUCKET).getBytes(StandardCharsets.UTF_8);

        client = RedisClient.create(redis.uri());
        connection = client.connect(ByteArrayCodec.INSTANCE);
        commands = connection.sync();
        seed = new SeedPattern(BUCKET.text());
        seed.write(commands, cards);

        // Both arms must return the same members, or the comparison means nothing.
        List<AccountCard> viaSeed = seed.read(commands);
        List<AccountCard> viaPort =
                projection.readSnapshot(BUCKET).value().orElseThrow().cards();
        if (viaSeed == null
                || !viaSeed.stream()
                        .map(AccountCard::id)
                        .toList()
                        .equals(viaPort.stream().map(AccountCard::id).toList())) {
            throw new IllegalStateException("seed and port arms disagree");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        projection.close();
        connection.close();
        client.shutdown(0, 1, TimeUnit.SECONDS);
        redis.kill();
    }

    /** The port: one GET of the self-contained snapshot, decoded into 200 cards. */
    @Benchmark
    public Snapshot port() {
        Lookup<Snapshot> l = projection.readSnapshot(BUCKET);
        return l.value().orElseThrow();
    }

    /** Baseline: the seed's GET ready, GET active, ZRANGE, MGET documents, MGET last-used, JSON decode. */
    @Benchmark
    public List<AccountCard> seedFiveCommands() throws IOException {
        return seed.read(commands);
    }

    /** Floor: a raw GET of the snapshot key, no decoding. */
    @Benchmark
    public byte[] rawGet() {
        return commands.get(snapshotKey);
    }
}
