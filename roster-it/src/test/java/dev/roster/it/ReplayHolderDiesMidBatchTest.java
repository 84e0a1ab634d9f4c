package dev.roster.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.PublishOutcome;
import dev.roster.core.projection.VersionTicket;
import dev.roster.core.replay.ReplayStep;
import dev.roster.core.service.SnapshotService;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.AccountSpec;
import dev.roster.postgres.GroupRepository;
import dev.roster.redis.RedisProjection;
import dev.roster.testkit.ForwardingProjection;
import dev.roster.testkit.RedisHarness;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The replayer lease holder dies in the middle of a batch: it has applied the batch's rows to its model
 * and written the changed cards, and stops before its snapshots are published (a hook holds its publish,
 * then its Redis connection is cut). The lease expires unrenewed; the second instance takes it, loads
 * its own model in bulk and replays from the stored watermark. What it then serves must equal the
 * independent oracle over the raw rows, with no full rebuild having run there (a full rebuild repairs
 * everything, so it would hide a batch the new holder failed to re-apply).
 */
class ReplayHolderDiesMidBatchTest {
    /** Lease TTL 3 s, renewed every 500 ms by a poll: long enough for the setup, short to wait out. */
    private static final ServiceConfig CONFIG = ItEnv.CONFIG;

    private ItEnv env;
    private RedisProjection redisA;
    private RedisProjection redisB;
    private SnapshotService a;
    private SnapshotService b;
    private final CountDownLatch reached = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);

    @AfterEach
    void close() {
        released.countDown();
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
        redisA.close();
        redisB.close();
        env.close();
    }

    @Test
    void theNewHolderServesWhatTheOracleExpectsWithoutAFullRebuild() throws Exception {
        env = new ItEnv("holderdies");
        String prefix = RedisHarness.shared().keyPrefix(ReplayHolderDiesMidBatchTest.class);
        redisA = env.projection(prefix);
        redisB = env.projection(prefix);
        GroupRepository groups = new GroupRepository(env.ds);
        AccountRepository accounts = new AccountRepository(env.ds);
        long g1 = groups.create("one", "openai");
        long g2 = groups.create("two", "anthropic");
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            String platform = i % 3 == 0 ? "anthropic" : "openai";
            List<Long> links = i % 2 == 0 ? List.of(g1) : i % 3 == 0 ? List.of(g2) : List.of();
            ids.add(accounts.create(
                    AccountSpec.of("acc" + i, platform, "apikey").withPriority(i), links));
        }
        AtomicBoolean armed = new AtomicBoolean();
        Projection held = new ForwardingProjection(redisA) {
            @Override
            public Map<Bucket, PublishOutcome> publishAll(
                    String generation, Map<VersionTicket, List<AccountCard>> contents) {
                if (armed.compareAndSet(true, false)) {
                    reached.countDown();
                    try {
                        released.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return delegate.publishAll(generation, contents);
            }
        };
        a = SnapshotService.newBuilder()
                .source(env.source)
                .projection(held)
                .config(CONFIG)
                .deadLetters(env.sink())
                .inlineRebuilds(true)
                .build();
        b = SnapshotService.newBuilder()
                .source(env.source)
                .projection(redisB)
                .config(CONFIG)
                .deadLetters(env.sink())
                .inlineRebuilds(true)
                .build();
        assertThat(a.replayer().drain()).isIn(ReplayStep.IDLE, ReplayStep.CAUGHT_UP);
        assertThat(a.isReplayer()).isTrue();

        // One batch of changes of every kind: priorities, a new link, an unlink, a disable, a soft
        // delete, a new account, a platform change.
        accounts.setPriority(ids.get(1), 40);
        accounts.bindGroup(ids.get(2), g2, 3);
        accounts.unbindGroup(ids.get(4), g1);
        accounts.setStatus(ids.get(5), "disabled");
        accounts.softDelete(ids.get(6));
        ids.add(accounts.create(AccountSpec.of("late", "openai", "apikey").withPriority(2), List.of(g1)));
        env.sql("UPDATE accounts SET platform = 'anthropic' WHERE id = " + ids.get(7));

        armed.set(true);
        assertThat(b.replayer().pollOnce()).as("A holds the lease").isEqualTo(ReplayStep.NOT_HOLDER);
        CompletableFuture<ReplayStep> dying =
                CompletableFuture.supplyAsync(() -> a.replayer().pollOnce());
        assertThat(reached.await(30, TimeUnit.SECONDS))
                .as("A is in the middle of its batch")
                .isTrue();
        // A dies: its connection is cut; nothing of it renews or releases the lease.
        redisA.close();

        await().atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> b.replayer().pollOnce() != ReplayStep.NOT_HOLDER);
        assertThat(b.replayer().drain()).isIn(ReplayStep.IDLE, ReplayStep.CAUGHT_UP);
        assertThat(b.isReplayer()).isTrue();

        List<String> problems = OracleCheck.problems(
                env.ds,
                CONFIG.runMode(),
                CONFIG.scope().group0(),
                redisB,
                b.generation(),
                b::list,
                b::getAccount,
                b::now,
                ids);
        assertThat(problems).as("disagreements with the oracle").isEmpty();
        assertThat(b.rebuilder().runsByReason())
                .as("no full rebuild ran at the new holder")
                .isEmpty();
        assertThat(b.replayer().modelLoads())
                .as("the new holder loaded its model once")
                .isEqualTo(1);

        released.countDown();
        assertThat(dying.get(30, TimeUnit.SECONDS))
                .as("A's step once its connection is gone")
                .isNotIn(ReplayStep.CAUGHT_UP, ReplayStep.MORE);
        assertThat(a.rebuilder().runsByReason()).containsOnlyKeys("generation_missing");
    }
}
