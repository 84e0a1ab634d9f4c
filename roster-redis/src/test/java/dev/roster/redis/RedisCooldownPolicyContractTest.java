package dev.roster.redis;

import dev.roster.core.selection.SelectionStore;
import dev.roster.testkit.RedisHarness;
import dev.roster.testkit.contract.CooldownPolicyContract;
import java.time.InstantSource;

/** The cooldown policy on a standalone Redis: two instances, each with its own connection. */
class RedisCooldownPolicyContractTest extends CooldownPolicyContract {
    private static final String PREFIX = RedisHarness.shared().keyPrefix(RedisCooldownPolicyContractTest.class);

    @Override
    protected SelectionStore open(String namespace, InstantSource clock) {
        return RedisSelectionStore.connect(
                RedisConnectionOptions.of(RedisHarness.shared().uri()),
                TestRedis.RESOURCES,
                PREFIX + namespace + ":",
                clock);
    }
}
