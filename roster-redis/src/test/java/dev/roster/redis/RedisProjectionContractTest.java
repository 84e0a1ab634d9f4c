package dev.roster.redis;

import dev.roster.core.projection.Projection;
import dev.roster.testkit.RedisHarness;
import dev.roster.testkit.contract.ProjectionContract;
import java.time.Duration;

/** The projection contract on a standalone Redis (the harness's, through its proxy); one connection per client. */
class RedisProjectionContractTest extends ProjectionContract {
    private static final String PREFIX = RedisHarness.shared().keyPrefix(RedisProjectionContractTest.class);

    @Override
    protected Projection open(String namespace) {
        return RedisProjection.connect(
                RedisConnectionOptions.of(RedisHarness.shared().uri()),
                TestRedis.RESOURCES,
                PREFIX + namespace + ":",
                GRACE);
    }

    @Override
    protected void elapse(Duration d) {
        // Real time: the suite awaits expiry.
    }
}
