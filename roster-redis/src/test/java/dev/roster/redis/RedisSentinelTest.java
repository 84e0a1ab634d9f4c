package dev.roster.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.projection.PublishOutcome;
import dev.roster.core.projection.Snapshot;
import dev.roster.testkit.Fixtures;
import dev.roster.testkit.RedisSentinelHarness;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A round trip through a {@code redis-sentinel://} URI against one master and one sentinel. */
class RedisSentinelTest {

    @Test
    void sentinelUri_publishAndReadRoundTrip() {
        RedisSentinelHarness s = RedisSentinelHarness.shared();
        Bucket b = Bucket.of(1, "gemini", Mode.MIXED);
        try (RedisProjection p = RedisProjection.connect(
                RedisConnectionOptions.of(s.uri()), TestRedis.RESOURCES, "sentinel:", Duration.ofSeconds(60))) {
            assertThat(p.publish(p.allocateVersion(b).orElseThrow(), "gen", Fixtures.cards(1, 5)))
                    .isEqualTo(PublishOutcome.ACTIVATED);
            assertThat(p.readSnapshot(b).value().map(Snapshot::cards)).hasValue(Fixtures.cards(1, 5));
        }
        // The data really went to the master the sentinel names.
        assertThat(s.masterCommand("EXISTS", "sentinel:{1:gemini:mixed}:snap")).isEqualTo(1L);
    }
}
