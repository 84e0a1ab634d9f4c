package dev.roster.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.selection.CooldownKind;
import dev.roster.core.selection.SelectionStore;
import dev.roster.testkit.RedisClusterHarness;
import dev.roster.testkit.contract.SelectionStoreContract;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The selection store contract on the harness's three-master Redis Cluster. */
class RedisClusterSelectionStoreContractTest extends SelectionStoreContract {
    private static final String PREFIX =
            RedisClusterHarness.shared().keyPrefix(RedisClusterSelectionStoreContractTest.class);

    @Override
    protected SelectionStore open(String namespace, InstantSource clock) {
        return RedisSelectionStore.connect(
                RedisConnectionOptions.of(RedisClusterHarness.shared().uri()),
                TestRedis.RESOURCES,
                PREFIX + namespace + ":",
                clock);
    }

    @Test
    void cluster_accountKeysShareOneSlot_accountsSpreadOverEveryShard() {
        RedisSelectionStore s = (RedisSelectionStore) store;
        RedisClusterHarness cluster = RedisClusterHarness.shared();
        Set<Integer> shards = new HashSet<>();
        for (long id = 1; id <= 12; id++) {
            s.tryAcquire(id, 1, Duration.ofSeconds(30));
            s.tryEnqueue(id, 1, Duration.ofSeconds(30));
            s.extendCooldown(id, CooldownKind.OVERLOADED, clock.instant().minusSeconds(1));
            s.extendModelCooldown(id, "m", clock.instant().minusSeconds(1));
            s.recordFailure(id, "overloaded", Duration.ofMinutes(1));
            int port = cluster.portServing(s.slotsKey(id));
            assertThat(cluster.portServing(s.waitKey(id))).isEqualTo(port);
            assertThat(cluster.portServing(s.coolKey(id))).isEqualTo(port);
            assertThat(cluster.portServing(s.modelCoolKey(id))).isEqualTo(port);
            assertThat(cluster.portServing(s.failsKey(id))).isEqualTo(port);
            // The projection's card of the account lives in the same slot too.
            assertThat(cluster.portServing(new RedisKeys(PREFIX + namespace + ":").card(id)))
                    .isEqualTo(port);
            shards.add(port);
        }
        assertThat(shards).containsExactlyInAnyOrderElementsOf(cluster.ports());
        assertThat(s.loads(java.util.List.of(1L, 2L, 3L, 4L, 5L, 6L)).values())
                .allSatisfy(l -> assertThat(l.inFlight()).isEqualTo(1));
    }
}
