package dev.roster.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.projection.Projection;
import dev.roster.testkit.Fixtures;
import dev.roster.testkit.RedisClusterHarness;
import dev.roster.testkit.contract.ProjectionContract;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The projection contract on a three-master Redis Cluster assembled by the harness. */
class RedisClusterProjectionContractTest extends ProjectionContract {
    private static final String PREFIX =
            RedisClusterHarness.shared().keyPrefix(RedisClusterProjectionContractTest.class);

    @Override
    protected Projection open(String namespace) {
        return RedisProjection.connect(
                RedisConnectionOptions.of(RedisClusterHarness.shared().uri()),
                TestRedis.RESOURCES,
                PREFIX + namespace + ":",
                GRACE);
    }

    @Override
    protected void elapse(Duration d) {
        // Real time: the suite awaits expiry.
    }

    @Test
    void cluster_bucketsAndAccountsSpreadOverEveryShard() {
        RedisProjection p = (RedisProjection) projection;
        RedisClusterHarness cluster = RedisClusterHarness.shared();
        Set<Integer> bucketShards = new HashSet<>();
        Set<Integer> cardShards = new HashSet<>();
        for (long g = 1; g <= 12; g++) {
            Bucket b = Bucket.of(g, "openai", Mode.SINGLE);
            p.publish(p.allocateVersion(b).orElseThrow(), "g", Fixtures.cards(g * 10, 2));
            assertThat(p.readSnapshot(b).value())
                    .hasValueSatisfying(s -> assertThat(s.cards()).hasSize(2));
            int port = cluster.portServing(p.keys().snapshot(b));
            // Every key of a bucket shares its slot, so one script can touch them all.
            assertThat(cluster.portServing(p.keys().activeVersion(b))).isEqualTo(port);
            assertThat(cluster.portServing(p.keys().epoch(b))).isEqualTo(port);
            bucketShards.add(port);
        }
        List<Long> ids = List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
        p.putCards(ids.stream().map(Fixtures::card).toList());
        for (long id : ids) {
            cardShards.add(cluster.portServing(p.keys().card(id)));
            assertThat(cluster.portServing(p.keys().lastUsed(id)))
                    .isEqualTo(cluster.portServing(p.keys().card(id)));
        }
        assertThat(bucketShards).containsExactlyInAnyOrderElementsOf(cluster.ports());
        assertThat(cardShards).containsExactlyInAnyOrderElementsOf(cluster.ports());
    }

    @Test
    void cluster_aLargeSnapshotsPartsShareItsSlot_andARefreshReadsOnlyWhatChanged() {
        RedisProjection p = (RedisProjection) projection;
        RedisClusterHarness cluster = RedisClusterHarness.shared();
        Bucket b = Bucket.of(0, "anthropic", Mode.SINGLE);
        List<dev.roster.core.AccountCard> cards = new java.util.ArrayList<>(Fixtures.cards(1, 2_000));
        p.publish(p.allocateVersion(b).orElseThrow(), "g", cards);
        dev.roster.core.projection.Snapshot held =
                p.refreshSnapshot(b, null).value().orElseThrow();
        int port = cluster.portServing(p.keys().snapshot(b));
        for (String id : ProjectionCodec.encodeStored(held).partIds()) {
            assertThat(cluster.portServing(p.keys().part(b, id))).isEqualTo(port);
        }
        cards.set(1_000, cards.get(1_000).toBuilder().priority(42).build());
        p.publish(p.allocateVersion(b).orElseThrow(), "g", cards);
        long before = p.snapshotBytesRead();
        dev.roster.core.projection.Snapshot next =
                p.refreshSnapshot(b, held).value().orElseThrow();
        assertThat(next.cards()).isEqualTo(cards);
        assertThat(p.snapshotBytesRead() - before)
                .as("bytes of a one-card change in a 2,000-card bucket")
                .isLessThan(ProjectionCodec.encodeSnapshot(next).length / 5);
    }
}
