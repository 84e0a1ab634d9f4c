package dev.roster.bench;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.embedded.EmbeddedRedis;
import dev.roster.embedded.RespConnection;
import dev.roster.redis.ProjectionCodec;
import dev.roster.redis.RedisConnectionOptions;
import dev.roster.redis.RedisProjection;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Prints Redis {@code MEMORY USAGE} (exact, {@code SAMPLES 0}) of the projection's values: one card,
 * one last-used value, a 200-card snapshot, and for comparison the seed's account document and its
 * 200-member ZSET. Run: {@code java -cp roster-bench/target/benchmarks.jar
 * dev.roster.bench.RedisMemoryUsage}.
 */
public final class RedisMemoryUsage {
    private RedisMemoryUsage() {}

    /**
     * Runs the measurement against a fresh embedded Redis.
     *
     * @param args ignored
     */
    public static void main(String[] args) throws IOException {
        Path dir = Files.createTempDirectory("roster-memory-");
        EmbeddedRedis redis = EmbeddedRedis.builder().dataDir(dir).build();
        redis.start();
        try {
            Bucket b = Bucket.of(7, "anthropic", Mode.MIXED);
            List<AccountCard> cards = BenchData.cards(SnapshotReadBenchmark.CARDS);
            try (RedisProjection p =
                    RedisProjection.connect(RedisConnectionOptions.of(redis.uri()), "mem:", Duration.ofSeconds(60))) {
                p.putCards(cards);
                Map<Long, Instant> used = new HashMap<>();
                cards.forEach(c -> used.put(c.id(), Instant.now()));
                p.markUsed(used);
                p.publish(p.allocateVersion(b).orElseThrow(), "benchgen", cards);
                RedisClient client = RedisClient.create(redis.uri());
                try (StatefulRedisConnection<byte[], byte[]> c = client.connect(ByteArrayCodec.INSTANCE)) {
                    new SeedPattern(b.text()).write(c.sync(), cards);
                } finally {
                    client.shutdown(0, 1, TimeUnit.SECONDS);
                }
                try (RespConnection r = RespConnection.open(redis.host(), redis.port(), Duration.ofSeconds(5))) {
                    long card = usage(r, p.keys().card(cards.get(0).id()));
                    long lu = usage(r, p.keys().lastUsed(cards.get(0).id()));
                    // A snapshot above the inline size is its index plus its parts: count them all.
                    long snap = usage(r, p.keys().snapshot(b));
                    long snapLen = (Long) r.command("STRLEN", p.keys().snapshot(b));
                    List<String> parts = ProjectionCodec.encodeStored(
                                    p.readSnapshot(b).value().orElseThrow())
                            .partIds();
                    for (String id : parts) {
                        snap += usage(r, p.keys().part(b, id));
                        snapLen += (Long) r.command("STRLEN", p.keys().part(b, id));
                    }
                    long cardLen = (Long)
                            r.command("STRLEN", p.keys().card(cards.get(0).id()));
                    long seedDoc = usage(r, "sched:acc:" + cards.get(0).id());
                    long seedDocLen = (Long)
                            r.command("STRLEN", "sched:acc:" + cards.get(0).id());
                    long seedZset = usage(r, "sched:" + b.text() + ":v1");
                    System.out.printf("redis %s, MEMORY USAGE <key> SAMPLES 0 (bytes)%n", EmbeddedRedis.REDIS_VERSION);
                    System.out.printf("card                     %6d  (value %d bytes)%n", card, cardLen);
                    System.out.printf("last-used                %6d%n", lu);
                    System.out.printf(
                            "snapshot, %d cards      %6d  (values %d bytes in %d keys, %.0f bytes/card)%n",
                            cards.size(), snap, snapLen, 1 + parts.size(), (double) snapLen / cards.size());
                    System.out.printf("seed account document    %6d  (value %d bytes)%n", seedDoc, seedDocLen);
                    System.out.printf("seed member ZSET, %d    %6d%n", cards.size(), seedZset);
                }
            }
        } finally {
            redis.kill();
        }
    }

    private static long usage(RespConnection r, String key) {
        return (Long) r.command("MEMORY", "USAGE", key, "SAMPLES", "0");
    }
}
