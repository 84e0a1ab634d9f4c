package dev.roster.redis;

import dev.roster.core.selection.SelectionStore;
import dev.roster.testkit.RedisHarness;
import dev.roster.testkit.contract.SelectionStoreContract;
import java.time.InstantSource;

/** The selection store contract on a standalone Redis (the harness's, through its proxy); one connection per client. */
class RedisSelectionStoreContractTest extends SelectionStoreContract {
    private static final String PREFIX = RedisHarness.shared().keyPrefix(RedisSelectionStoreContractTest.class);

    @Override
    protected SelectionStore open(String namespace, InstantSource clock) {
        return RedisSelectionStore.connect(
                RedisConnectionOptions.of(RedisHarness.shared().uri()),
                TestRedis.RESOURCES,
                PREFIX + namespace + ":",
                clock);
    }
}
