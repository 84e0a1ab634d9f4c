package dev.roster.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.audit.ServingReport;
import dev.roster.core.config.ReplayConfig;
import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.service.ListResult;
import dev.roster.core.service.SnapshotService;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.AccountSpec;
import dev.roster.postgres.GroupRepository;
import dev.roster.redis.RedisConnectionOptions;
import dev.roster.redis.RedisProjection;
import dev.roster.testkit.RedisSentinelHarness;
import dev.roster.testkit.oracle.BucketOracle;
import dev.roster.testkit.oracle.PoolRows;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A Sentinel failover that loses acknowledged writes, with two service instances (near caches on) on
 * a {@code redis-sentinel://} URI: replication is held back, account A is disabled (published to the
 * master only, and served by both near caches), the master is killed, account B is disabled while no
 * master exists, and the Sentinel promotes the replica. The promoted replica's version counters are
 * behind, so the next publish of the bucket reuses the version the near caches already hold (the one
 * without A) for other content (without A and B); a near cache takes an equal (generation, version)
 * for a confirmation and would serve B forever. The detected store change (a new generation and a
 * full rebuild) must make every instance's answer, for every bucket, converge to the independent
 * oracle computed from the database rows.
 */
class SentinelFailoverTest {
    static ItEnv env;
    static ClientResources resources;

    /**
     * No lag, backlog or periodic full rebuilds: each would republish every bucket under fresh versions
     * and hide the reused version by chance. The fix under test must not depend on them.
     */
    static final ServiceConfig CONFIG = ItEnv.CONFIG
            .withReplay(ReplayConfig.DEFAULTS)
            .withScheduling(SchedulingConfig.DEFAULTS.toBuilder()
                    .outboxLagRebuildSeconds(0)
                    .outboxBacklogRebuildRows(0)
                    .fullRebuildIntervalSeconds(0)
                    .build());

    @BeforeAll
    static void setUp() {
        env = new ItEnv("sentinel-failover");
        // Reconnect every 100 ms: Lettuce asks the Sentinel for the master on each attempt, and the
        // default exponential back-off would only add seconds to the test after the promotion.
        resources = DefaultClientResources.builder()
                .reconnectDelay(Delay.constant(Duration.ofMillis(100)))
                .build();
    }

    @AfterAll
    static void tearDown() {
        env.close();
        // Best effort at the end of the class: nothing is left to wait for.
        var unused = resources.shutdown(0, 2, TimeUnit.SECONDS);
    }

    private static List<Long> ids(SnapshotService s, long group) {
        return s.list(group, "openai", false).accounts().stream()
                .map(AccountCard::id)
                .toList();
    }

    @Test
    void aPromotedReplicaThatLostWritesLeavesNoInstanceServingStaleContent() {
        AccountRepository accounts = new AccountRepository(env.ds);
        GroupRepository groups = new GroupRepository(env.ds);
        long g = groups.create("team", "openai");
        long a = accounts.create(AccountSpec.of("a", "openai", "apikey").withPriority(1), List.of(g));
        long b = accounts.create(AccountSpec.of("b", "openai", "apikey").withPriority(2), List.of(g));
        long c = accounts.create(AccountSpec.of("c", "openai", "apikey").withPriority(3), List.of(g));
        Bucket bucket = Bucket.of(g, "openai", Mode.SINGLE);

        List<RedisProjection> projections = new ArrayList<>();
        List<SnapshotService> services = new ArrayList<>();
        try (RedisSentinelHarness redis = RedisSentinelHarness.startWithReplica()) {
            for (int i = 0; i < 2; i++) {
                RedisProjection p = RedisProjection.connect(
                        RedisConnectionOptions.of(redis.uri()), resources, "failover:", Duration.ofSeconds(60));
                projections.add(p);
                services.add(env.service(p).config(CONFIG).build().start());
            }
            Duration limit = Duration.ofSeconds(60);
            await().atMost(limit).until(() -> services.stream().allMatch(SnapshotService::ready));
            for (SnapshotService s : services) {
                await().atMost(limit).until(() -> ids(s, g).equals(List.of(a, b, c)));
            }
            String generationBefore = services.getFirst().generation();
            redis.awaitReplicaInSync(limit);

            // From here on the replica sees nothing: A's change reaches the master only.
            redis.pauseReplication();
            env.sql("UPDATE accounts SET status = 'disabled' WHERE id = " + a);
            for (SnapshotService s : services) {
                await().atMost(limit).until(() -> ids(s, g).equals(List.of(b, c)));
                assertThat(s.nearCache().orElseThrow().get(bucket))
                        .as("the near cache holds the version without A")
                        .isNotNull();
            }
            long heldVersion = services.getFirst().list(g, "openai", false).version();

            redis.killMaster();
            env.sql("UPDATE accounts SET status = 'disabled' WHERE id = " + b);
            redis.awaitPromotion(limit);

            // Every instance, every bucket, against the rows: the stale (generation, version) is gone.
            List<Long> everSeen = List.of(a, b, c);
            for (int i = 0; i < services.size(); i++) {
                SnapshotService s = services.get(i);
                RedisProjection p = projections.get(i);
                await("instance " + i + " agrees with the oracle after the failover")
                        .atMost(limit)
                        .pollInterval(Duration.ofMillis(200))
                        .untilAsserted(() -> assertThat(OracleCheck.problems(
                                        env.ds,
                                        CONFIG.runMode(),
                                        CONFIG.scope().group0(),
                                        p,
                                        s.generation(),
                                        s::list,
                                        s::getAccount,
                                        s::now,
                                        everSeen))
                                .as("disagreements with the oracle")
                                .isEmpty());
                ListResult l = s.list(g, "openai", false);
                List<Long> want = new BucketOracle(
                                PoolRows.load(env.ds),
                                CONFIG.runMode(),
                                CONFIG.scope().group0())
                        .idsAt(bucket, s.now());
                assertThat(want).containsExactly(c);
                assertThat(l.accounts().stream().map(AccountCard::id).toList()).isEqualTo(want);
                assertThat(l.generation())
                        .as("the store change moved instance " + i + " to a new generation (was v" + heldVersion + ")")
                        .isNotEqualTo(generationBefore);
            }
            // The instance-level check agrees: with every digest refreshed, nobody serves stale content.
            services.forEach(SnapshotService::publishServing);
            ServingReport serving = services.getFirst().servingAudit();
            assertThat(serving.instances()).isEqualTo(services.size());
            assertThat(serving.stale()).as("instances serving stale content").isEmpty();
            assertThat(services.getFirst().audit().clean()).isTrue();
        } finally {
            services.forEach(SnapshotService::close);
            projections.forEach(RedisProjection::close);
        }
    }
}
