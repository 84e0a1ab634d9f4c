package dev.roster.core.service;

import static dev.roster.core.service.FakeStore.card;
import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.GroupLink;
import dev.roster.core.Mode;
import dev.roster.core.audit.ServingReport;
import dev.roster.core.audit.ServingReport.Finding;
import dev.roster.core.audit.ServingReport.Kind;
import dev.roster.core.config.NearCacheConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.nearcache.NearCache;
import dev.roster.core.projection.ServingDigest;
import dev.roster.core.projection.Snapshot;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The serving audit sees what the projection audit cannot: an instance whose near cache serves, under
 * the (generation, version) the projection holds, other content (a version handed out again after
 * writes were lost), or a version the projection never reached. Two instances share one projection;
 * one of them is given such an entry through its near cache's own install path. The version check is
 * an hour away, so nothing heals the entry while the test looks at it.
 */
class ServingAuditTest {
    private static final Bucket G7 = Bucket.of(7, "openai", Mode.SINGLE);
    private static final Bucket ALL = Bucket.of(0, "openai", Mode.SINGLE);
    private static final NearCacheConfig CHECK_FAR_AWAY =
            NearCacheConfig.DEFAULTS.withTiming(Duration.ofHours(2), Duration.ofHours(1));

    private static Rig rig() {
        Rig rig = new Rig(ServiceConfig.DEFAULTS.withReplay(Rig.fastRetries()).withNearCache(CHECK_FAR_AWAY));
        rig.store.seedGroup(7, "openai", "active");
        rig.store.seed(card(1, "openai", 1, new GroupLink(7, 1)));
        rig.store.seed(card(2, "openai", 2, new GroupLink(7, 1)));
        return rig;
    }

    private static SnapshotService second(Rig rig) {
        return SnapshotService.newBuilder()
                .source(rig.store)
                .projection(rig.projection)
                .config(rig.config)
                .clock(rig.clock)
                .inlineRebuilds(true)
                .build()
                .start();
    }

    private static List<Long> ids(ListResult r) {
        return r.accounts().stream().map(AccountCard::id).toList();
    }

    @Test
    void anInstanceServingContentTheStoreDoesNotHoldIsReportedAndAHealthyOneIsClean() {
        try (Rig rig = rig()) {
            SnapshotService healthy = rig.build().start();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(healthy::ready);
            try (SnapshotService stale = second(rig)) {
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(stale::ready);
                assertThat(ids(healthy.list(7L, "openai", false))).containsExactly(1L, 2L);
                assertThat(ids(healthy.list(null, "openai", false))).containsExactly(1L, 2L);
                Snapshot held = rig.projection.readSnapshot(G7).value().orElseThrow();
                Snapshot all = rig.projection.readSnapshot(ALL).value().orElseThrow();

                // Both serve what the store holds: clean.
                assertThat(ids(stale.list(7L, "openai", false))).containsExactly(1L, 2L);
                stale.publishServing();
                ServingReport before = healthy.servingAudit();
                assertThat(before.instances()).isEqualTo(2);
                assertThat(before.checked()).isGreaterThanOrEqualTo(3);
                assertThat(before.stale()).isEmpty();
                assertThat(before.behind()).isEmpty();
                assertThat(before.clean()).isTrue();

                // The other instance now holds, under the store's own (generation, version), a list
                // without account 2 (as after a failover that reused the version), and, for group 0,
                // a version the store never reached.
                NearCache nc = stale.nearCache().orElseThrow();
                nc.clear();
                Snapshot reused = new Snapshot(
                        G7,
                        held.generation(),
                        held.version(),
                        List.of(held.cards().getFirst()));
                assertThat(nc.offer(reused, nc.retireMark(G7)).snapshot()).isSameAs(reused);
                Snapshot ahead = new Snapshot(ALL, all.generation(), all.version() + 1, all.cards());
                assertThat(nc.offer(ahead, nc.retireMark(ALL)).snapshot()).isSameAs(ahead);
                assertThat(ids(stale.list(7L, "openai", false)))
                        .as("the instance really serves the stale entry")
                        .containsExactly(1L);

                stale.publishServing();
                ServingReport r = healthy.servingAudit();
                assertThat(r.clean()).isFalse();
                assertThat(r.stale())
                        .extracting(Finding::instanceId, Finding::bucket, Finding::kind)
                        .containsExactlyInAnyOrder(
                                org.assertj.core.groups.Tuple.tuple(stale.instanceId(), G7, Kind.CONTENT_DIFFERS),
                                org.assertj.core.groups.Tuple.tuple(stale.instanceId(), ALL, Kind.AHEAD_OF_STORE));
                assertThat(r.stale()).extracting(Finding::instanceId).doesNotContain(healthy.instanceId());
                Finding f = r.stale().stream()
                        .filter(x -> x.bucket().equals(G7))
                        .findFirst()
                        .orElseThrow();
                assertThat(f.served()).contains("v" + held.version()).isNotEqualTo(f.stored());
                assertThat(f.stored()).contains(ServingDigest.checksum(held.cards()));

                // The projection audit cannot see it: Redis and the database agree.
                assertThat(healthy.audit().clean()).isTrue();
            }
        }
    }

    @Test
    void anOlderVersionIsLagNotStaleAndADeadInstancesDigestExpires() {
        try (Rig rig = rig()) {
            SnapshotService s = rig.build().start();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(s::ready);
            assertThat(ids(s.list(7L, "openai", false))).containsExactly(1L, 2L);
            Snapshot held = rig.projection.readSnapshot(G7).value().orElseThrow();
            // An instance that has not yet read the bucket's latest version, and then died.
            ServingDigest lagging = new ServingDigest(
                    "gone",
                    held.generation(),
                    rig.clock.instant(),
                    Map.of(G7, new ServingDigest.Served(held.generation(), held.version() - 1, "0000000000000000")));
            rig.projection.putServing(lagging, SnapshotService.SERVING_TTL);

            ServingReport r = s.servingAudit();
            assertThat(r.instances()).isEqualTo(2);
            assertThat(r.clean()).isTrue();
            assertThat(r.behind())
                    .extracting(Finding::instanceId, Finding::kind)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("gone", Kind.OLDER));

            rig.clock.advance(SnapshotService.SERVING_TTL);
            ServingReport later = s.servingAudit();
            assertThat(later.instances())
                    .as("the dead instance's digest expired")
                    .isEqualTo(1);
            assertThat(later.behind()).isEmpty();
        }
    }

    @Test
    void theDigestNamesNoCardContent() {
        try (Rig rig = rig()) {
            SnapshotService s = rig.build().start();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(s::ready);
            assertThat(ids(s.list(7L, "openai", false))).containsExactly(1L, 2L);
            ServingDigest d = s.servingDigest();
            assertThat(d.buckets()).containsKey(G7);
            String encoded = d.encode();
            assertThat(encoded).doesNotContain("acc-1").doesNotContain("acc-2");
            assertThat(ServingDigest.decode(encoded)).isEqualTo(d);
            assertThat(ServingDigest.checksum(List.of(card(1, "openai", 1))))
                    .as("a checksum follows the content")
                    .isNotEqualTo(ServingDigest.checksum(List.of(card(1, "openai", 2))))
                    .isEqualTo(ServingDigest.checksum(List.of(card(1, "openai", 1))));
        }
    }
}
