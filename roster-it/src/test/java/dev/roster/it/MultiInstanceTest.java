package dev.roster.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.core.AccountCard;
import dev.roster.core.service.SnapshotService;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.AccountSpec;
import dev.roster.postgres.GroupRepository;
import dev.roster.redis.RedisProjection;
import dev.roster.testkit.RedisHarness;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two started service instances on one database and one Redis: exactly one replays; closing it or
 * killing it (its Redis connection dies, the lease is never released and must expire) hands the
 * replayer over; the audit finds no drift and the independent oracle agrees with what the survivors serve.
 */
class MultiInstanceTest {
    static ItEnv env;

    @BeforeAll
    static void setUp() {
        env = new ItEnv("multi");
    }

    @AfterAll
    static void tearDown() {
        env.close();
    }

    private static List<Long> ids(SnapshotService s, Long group, String platform) {
        return s.list(group, platform, false).accounts().stream()
                .map(AccountCard::id)
                .toList();
    }

    /**
     * The independent oracle agrees with what {@code s} serves (snapshots, answers, cards); awaited,
     * since the awaited bucket may be published before the others of its batch.
     */
    private static void agreesWithOracle(SnapshotService s, RedisProjection p, Duration limit) {
        List<Long> ids = new ArrayList<>();
        for (long id = 1; id <= env.queryLong("SELECT coalesce(max(id), 0) FROM accounts"); id++) {
            ids.add(id);
        }
        await().atMost(limit)
                .untilAsserted(() -> assertThat(OracleCheck.problems(
                                env.ds,
                                ItEnv.CONFIG.runMode(),
                                ItEnv.CONFIG.scope().group0(),
                                p,
                                s.generation(),
                                s::list,
                                s::getAccount,
                                s::now,
                                ids))
                        .as("disagreements with the oracle")
                        .isEmpty());
    }

    @Test
    void oneReplayerAtATimeAndHandOverOnCloseAndOnDeath() {
        String prefix = RedisHarness.shared().keyPrefix(MultiInstanceTest.class);
        AccountRepository accounts = new AccountRepository(env.ds);
        GroupRepository groups = new GroupRepository(env.ds);
        long g = groups.create("team", "openai");
        long a1 = accounts.create(AccountSpec.of("a1", "openai", "apikey").withPriority(5), List.of(g));

        RedisProjection pa = env.projection(prefix);
        RedisProjection pb = env.projection(prefix);
        RedisProjection pc = env.projection(prefix);
        SnapshotService a = env.service(pa).build().start();
        SnapshotService b = env.service(pb).build().start();
        SnapshotService c = null;
        try {
            Duration limit = Duration.ofSeconds(30);
            await().atMost(limit).until(() -> a.ready() && b.ready() && (a.isReplayer() ^ b.isReplayer()));
            SnapshotService holder = a.isReplayer() ? a : b;
            SnapshotService other = holder == a ? b : a;
            RedisProjection holderProjection = holder == a ? pa : pb;
            RedisProjection otherProjection = holder == a ? pb : pa;

            long a2 = accounts.create(AccountSpec.of("a2", "openai", "apikey").withPriority(1), List.of(g));
            await().atMost(limit).until(() -> ids(other, g, "openai").equals(List.of(a2, a1)));
            assertThat(holder.isReplayer() && other.isReplayer()).isFalse();
            assertThat(other.replayer().applied()).isZero();
            assertThat(other.audit().drifts()).isEmpty();
            agreesWithOracle(other, otherProjection, limit);

            // Death: the holder's Redis connection goes away; its lease can only expire.
            holderProjection.close();
            holder.close();
            long a3 = accounts.create(AccountSpec.of("a3", "openai", "apikey").withPriority(0), List.of(g));
            await().atMost(limit).until(other::isReplayer);
            await().atMost(limit).until(() -> ids(other, g, "openai").equals(List.of(a3, a2, a1)));

            // A third instance joins; closing the current holder hands over at once (lease released).
            c = env.service(pc).build().start();
            SnapshotService third = c;
            await().atMost(limit).until(third::ready);
            assertThat(third.isReplayer()).isFalse();
            other.close();
            await().atMost(limit).until(third::isReplayer);
            accounts.setStatus(a2, "disabled");
            await().atMost(limit).until(() -> ids(third, g, "openai").equals(List.of(a3, a1)));
            await().atMost(limit).until(() -> ids(third, null, "openai").equals(List.of(a3, a1)));
            assertThat(third.audit().drifts()).isEmpty();
            agreesWithOracle(third, pc, limit);
        } finally {
            a.close();
            b.close();
            if (c != null) {
                c.close();
            }
            pa.close();
            pb.close();
            pc.close();
        }
    }
}
