package dev.roster.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.projection.ServingDigest;
import dev.roster.testkit.RedisHarness;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Serving digests in {@code {state}:serving} on real Redis: one hash field per instance, replaced by
 * its next publish, and gone after its TTL (per instance, and the hash itself once every instance is
 * gone), so a dead instance never shows in the serving audit.
 */
class RedisServingDigestTest {
    private static final RedisHarness REDIS = RedisHarness.shared();
    private static final Bucket B = Bucket.of(3, "openai", Mode.SINGLE);

    private String prefix;
    private RedisProjection projection;

    @BeforeEach
    void open() {
        prefix = REDIS.keyPrefix(RedisServingDigestTest.class);
        projection = RedisProjection.connect(
                RedisConnectionOptions.of(REDIS.uri()), TestRedis.RESOURCES, prefix, Duration.ofSeconds(60));
    }

    @AfterEach
    void close() {
        projection.close();
    }

    private static ServingDigest digest(String id, long version) {
        return new ServingDigest(
                id,
                "gen",
                Instant.ofEpochMilli(1_700_000_000_000L),
                Map.of(B, new ServingDigest.Served("gen", version, "0123456789abcdef")));
    }

    @Test
    void aDigestIsReplacedByItsInstancesNextOneAndExpiresOnItsOwn() {
        projection.putServing(digest("long-lived", 1), Duration.ofMinutes(5));
        projection.putServing(digest("short-lived", 1), Duration.ofMillis(300));
        projection.putServing(digest("short-lived", 2), Duration.ofMillis(300));
        assertThat(projection.servingDigests())
                .containsExactlyInAnyOrder(digest("long-lived", 1), digest("short-lived", 2));
        assertThat(REDIS.command("HLEN", prefix + "{state}:serving")).isEqualTo(4L);

        await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> projection.servingDigests().equals(java.util.List.of(digest("long-lived", 1))));
        // The next publish removes the expired instance's fields too.
        projection.putServing(digest("long-lived", 2), Duration.ofMinutes(5));
        assertThat(REDIS.command("HLEN", prefix + "{state}:serving")).isEqualTo(2L);
        assertThat((Long) REDIS.command("PTTL", prefix + "{state}:serving")).isGreaterThan(60_000L);
    }

    @Test
    void theHashVanishesWhenEveryInstanceIsGone() {
        projection.putServing(digest("only", 1), Duration.ofMillis(300));
        assertThat((Long) REDIS.command("PTTL", prefix + "{state}:serving")).isBetween(1L, 300L);
        await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> Long.valueOf(0).equals(REDIS.command("EXISTS", prefix + "{state}:serving")));
        assertThat(projection.servingDigests()).isEmpty();
    }

    @Test
    void anUnreadableDigestIsSkippedNotFatal() {
        projection.putServing(digest("good", 1), Duration.ofMinutes(5));
        REDIS.command("HSET", prefix + "{state}:serving", "d:bad", "not a digest", "e:bad", "99999999999999");
        assertThat(projection.servingDigests()).containsExactly(digest("good", 1));
    }
}
