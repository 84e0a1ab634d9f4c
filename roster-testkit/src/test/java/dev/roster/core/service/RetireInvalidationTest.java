package dev.roster.core.service;

import static dev.roster.core.service.FakeStore.card;
import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.GroupLink;
import dev.roster.core.Mode;
import dev.roster.core.config.NearCacheConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.nearcache.NearCache;
import dev.roster.core.projection.VersionTicket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A retired bucket stops being served from the near cache on the retire notice itself, not at the
 * cache's next version check; and a database answer whose publish was refused never enters the near
 * cache as if it were the bucket's confirmed snapshot (decisions V1, V2). The version check is an hour away
 * in every test here, so only the notice can empty the cache.
 */
class RetireInvalidationTest {
    private static final Bucket G7 = Bucket.of(7, "openai", Mode.SINGLE);
    private static final NearCacheConfig CHECK_FAR_AWAY =
            NearCacheConfig.DEFAULTS.withTiming(Duration.ofHours(2), Duration.ofHours(1));

    private static Rig rig() {
        Rig rig = new Rig(ServiceConfig.DEFAULTS.withReplay(Rig.fastRetries()).withNearCache(CHECK_FAR_AWAY));
        rig.store.seedGroup(7, "openai", "active");
        rig.store.seed(card(1, "openai", 1, new GroupLink(7, 1)));
        return rig;
    }

    @Test
    void nearCache_dropsTheBucketOnTheRetireNotice() {
        try (Rig rig = rig()) {
            VersionTicket t = rig.projection.allocateVersion(G7).orElseThrow();
            rig.projection.publish(t, "gen1", List.of(card(1, "openai", 1, new GroupLink(7, 1))));
            try (NearCache nc = new NearCache(rig.projection, g -> true, rig.clock, CHECK_FAR_AWAY).start()) {
                assertThat(nc.load(G7).snapshot().version()).isEqualTo(t.version());
                assertThat(nc.get(G7)).isNotNull();

                // The in-memory projection delivers the notice on the retiring thread, before retire returns.
                rig.projection.retire(G7);
                assertThat(nc.get(G7)).isNull();
                assertThat(nc.cachedBuckets()).doesNotContain(G7);

                // Reopened and published again, the bucket is cached again from its activation notice.
                rig.projection.reopen(G7);
                VersionTicket again = rig.projection.allocateVersion(G7).orElseThrow();
                rig.projection.publish(again, "gen1", List.of());
                Awaitility.await()
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> nc.get(G7) != null && nc.get(G7).snapshot().version() == again.version());
            }
        }
    }

    @Test
    void service_answersEmptyForADisabledGroupWithoutWaitingForTheVersionCheck() {
        try (Rig rig = rig()) {
            SnapshotService s = rig.build().start();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(s::ready);
            assertThat(ids(s.list(7L, "openai", false))).containsExactly(1L);
            assertThat(s.list(7L, "openai", false).source()).isEqualTo(ListResult.Source.NEAR_CACHE);

            rig.store.group(7, "openai", "disabled");
            s.wake();
            // Without the retire notice the near cache would keep listing account 1 until the check an hour
            // away, so this wait can only end through the notice.
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> s.list(7L, "openai", false).accounts().isEmpty());
            assertThat(rig.projection.isRetired(G7)).isTrue();
            assertThat(s.nearCache().orElseThrow().get(G7)).isNull();
        }
    }

    @Test
    void fallback_whosePublishCameBackRetired_answersTheCallerButIsNotCached() throws Exception {
        fallbackRefused(false);
    }

    @Test
    void fallback_whosePublishCameBackFenced_answersTheCallerButIsNotCached() throws Exception {
        fallbackRefused(true);
    }

    private static void fallbackRefused(boolean reopen) throws Exception {
        try (Rig rig = rig()) {
            SnapshotService s = rig.build().start();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(s::ready);
            // A bucket the projection does not hold (and is not retired): the next read falls back.
            rig.projection.retire(G7);
            rig.projection.reopen(G7);
            int before = rig.store.bucketQueries.size();
            CompletableFuture<Void> gate = new CompletableFuture<>();
            rig.store.gate = gate;
            CompletableFuture<ListResult> read = CompletableFuture.supplyAsync(() -> s.list(7L, "openai", false));
            // The fallback allocated its version and is reading the database: retire the bucket under it.
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> rig.store.bucketQueries.size() > before);
            rig.projection.retire(G7);
            if (reopen) {
                rig.projection.reopen(G7);
            }
            rig.store.gate = null;
            gate.complete(null);
            ListResult r = read.get(10, TimeUnit.SECONDS);

            // The caller gets the database's answer, labelled as unpublished ...
            assertThat(ids(r)).containsExactly(1L);
            assertThat(r.source()).isEqualTo(ListResult.Source.DATABASE);
            assertThat(r.version()).isZero();
            assertThat(r.generation()).isEmpty();
            // ... and the near cache holds nothing for the bucket, so the next read asks again.
            assertThat(s.nearCache().orElseThrow().get(G7)).isNull();
            assertThat(rig.projection.readSnapshot(G7).isHit()).isFalse();
        }
    }

    private static List<Long> ids(ListResult r) {
        return r.accounts().stream().map(AccountCard::id).toList();
    }
}
