package dev.roster.it.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.testkit.RedisHarness;
import org.junit.jupiter.api.Test;

/**
 * Redis goes away under load, in each of the ways production loses it: the process stopped (connections
 * refused, data gone on start), the network paused (bytes stop, connections stay), partitioned
 * (connections dropped, new ones black-holed) and the data flushed. Readers must keep being answered
 * (near cache, then the guarded database fallback) and, once Redis is back, the projection must converge
 * to the bucket query with no event lost.
 */
class RedisFaultTest extends FaultTestBase {
    private final RedisHarness redis = RedisHarness.shared();

    @Test
    void redisStoppedUnderLoad() {
        Load load = startLoad(2, false);
        env.faultStarts();
        redis.stop();
        Load.hold(hold());
        redis.start();
        env.faultEnds();
        env.converge("Redis stopped " + holdMs() + " ms, started empty", 0);
        assertThat(load.served.get()).isPositive();
    }

    @Test
    void redisPausedUnderLoad() {
        Load load = startLoad(2, false);
        env.faultStarts();
        redis.pause();
        Load.hold(hold());
        redis.resume();
        env.faultEnds();
        env.converge("Redis paused (proxy) " + holdMs() + " ms", 0);
        assertThat(load.served.get()).isPositive();
    }

    @Test
    void redisPartitionedUnderLoad() {
        Load load = startLoad(2, false);
        env.faultStarts();
        redis.partition();
        Load.hold(hold());
        redis.heal();
        env.faultEnds();
        env.converge("Redis partitioned (proxy) " + holdMs() + " ms", 0);
        assertThat(load.served.get()).isPositive();
    }

    @Test
    void redisFlushedUnderLoad() {
        Load load = startLoad(2, false);
        env.faultStarts();
        redis.flushAll();
        Load.hold(hold());
        redis.flushAll();
        env.faultEnds();
        env.converge("FLUSHALL twice, " + holdMs() + " ms apart", 0);
        assertThat(load.served.get()).isPositive();
    }
}
