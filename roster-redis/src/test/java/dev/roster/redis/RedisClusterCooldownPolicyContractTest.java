package dev.roster.redis;

import dev.roster.core.selection.SelectionStore;
import dev.roster.testkit.RedisClusterHarness;
import dev.roster.testkit.contract.CooldownPolicyContract;
import java.time.InstantSource;

/** The cooldown policy on the harness's Redis Cluster (every script on one account's slot). */
class RedisClusterCooldownPolicyContractTest extends CooldownPolicyContract {
    private static final String PREFIX =
            RedisClusterHarness.shared().keyPrefix(RedisClusterCooldownPolicyContractTest.class);

    @Override
    protected SelectionStore open(String namespace, InstantSource clock) {
        return RedisSelectionStore.connect(
                RedisConnectionOptions.of(RedisClusterHarness.shared().uri()),
                TestRedis.RESOURCES,
                PREFIX + namespace + ":",
                clock);
    }
}
