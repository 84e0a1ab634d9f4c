package dev.roster.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Group0Scope;
import dev.roster.core.RunMode;
import dev.roster.core.outbox.OutboxPosition;
import dev.roster.core.outbox.OutboxSource;
import dev.roster.core.replay.ReplayStep;
import dev.roster.core.service.SnapshotService;
import dev.roster.core.source.BatchRead;
import dev.roster.core.source.GroupInfo;
import dev.roster.core.source.PoolSink;
import dev.roster.core.source.SchedulingSource;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.AccountSpec;
import dev.roster.postgres.GroupRepository;
import dev.roster.redis.RedisProjection;
import dev.roster.testkit.RedisHarness;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A full rebuild never stops replay: the rebuild runs on its own thread and is held (by a hook) inside
 * its bulk load of the pool; a change committed meanwhile is replayed and published by the next batch
 * while the rebuild is still held there. After the rebuild is let go it hands its model to the replay
 * thread, publishes, and what the service serves equals the independent oracle.
 */
class RebuildDoesNotStopReplayTest {
    private ItEnv env;
    private RedisProjection redis;
    private SnapshotService s;
    private final CountDownLatch reached = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);

    @AfterEach
    void close() {
        released.countDown();
        if (s != null) {
            s.close();
        }
        redis.close();
        env.close();
    }

    @Test
    void aChangeCommittedDuringTheRebuildsLoadIsPublishedByTheNextBatch() throws Exception {
        env = new ItEnv("rebuildreplay");
        redis = env.projection(RedisHarness.shared().keyPrefix(RebuildDoesNotStopReplayTest.class));
        long group = new GroupRepository(env.ds).create("team", "openai");
        AccountRepository accounts = new AccountRepository(env.ds);
        List<Long> ids = new ArrayList<>();
        long first = accounts.create(AccountSpec.of("first", "openai", "apikey").withPriority(1), List.of(group));
        long second =
                accounts.create(AccountSpec.of("second", "openai", "apikey").withPriority(2), List.of(group));
        ids.add(first);
        ids.add(second);
        HoldingSource source = new HoldingSource(env.source);
        s = SnapshotService.newBuilder()
                .source(source)
                .projection(redis)
                .config(ItEnv.CONFIG)
                .deadLetters(env.sink())
                .build(); // rebuilds on their own thread; replay driven here step by step
        // Polled on this thread: the replay thread is whoever polls, and it must outlive the poll.
        await().pollInSameThread().atMost(Duration.ofSeconds(30)).until(() -> {
            s.replayer().pollOnce();
            return s.ready() && !s.rebuilder().busy();
        });
        assertThat(ids(s.list(group, "openai", false).accounts())).containsExactly(first, second);

        long adoptionsBefore = s.replayer().adoptions();
        source.holdNextLoad.set(true);
        CompletableFuture<Void> rebuilt = s.requestFullRebuild("test");
        assertThat(reached.await(30, TimeUnit.SECONDS))
                .as("the rebuild is in its bulk load")
                .isTrue();
        accounts.setPriority(first, 9);
        CompletableFuture<ReplayStep> drained =
                CompletableFuture.supplyAsync(() -> s.replayer().drain());
        assertThat(drained)
                .as("replay goes on while the rebuild is held")
                .succeedsWithin(Duration.ofSeconds(30))
                .isIn(ReplayStep.CAUGHT_UP, ReplayStep.IDLE);
        assertThat(rebuilt).as("the rebuild is still held in its load").isNotDone();
        assertThat(ids(redis.readSnapshot(new Bucket(group, "openai", dev.roster.core.Mode.SINGLE))
                        .value()
                        .orElseThrow()
                        .cards()))
                .as("the change is published while the rebuild is still loading")
                .containsExactly(second, first);

        released.countDown();
        await().pollInSameThread().atMost(Duration.ofSeconds(30)).until(() -> {
            s.replayer().pollOnce();
            return rebuilt.isDone();
        });
        assertThat(rebuilt).isCompleted();
        assertThat(s.replayer().adoptions())
                .as("the replay thread adopted the rebuilt model (the start's rebuild may have been adopted too)")
                .isEqualTo(adoptionsBefore + 1);
        assertThat(OracleCheck.problems(
                        env.ds,
                        ItEnv.CONFIG.runMode(),
                        ItEnv.CONFIG.scope().group0(),
                        redis,
                        s.generation(),
                        s::list,
                        s::getAccount,
                        s::now,
                        ids))
                .as("disagreements with the oracle")
                .isEmpty();
    }

    private static List<Long> ids(List<AccountCard> cards) {
        return cards.stream().map(AccountCard::id).toList();
    }

    /** The real source; once armed, the next bulk load of the pool on the rebuild thread is held. */
    private final class HoldingSource implements SchedulingSource {
        private final SchedulingSource real;
        final AtomicBoolean holdNextLoad = new AtomicBoolean();

        HoldingSource(SchedulingSource real) {
            this.real = real;
        }

        @Override
        public long loadPool(PoolSink sink) {
            if (Thread.currentThread().getName().startsWith("roster-rebuild")
                    && holdNextLoad.compareAndSet(true, false)) {
                reached.countDown();
                try {
                    if (!released.await(60, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("the test never released the load");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while held", e);
                }
            }
            return real.loadPool(sink);
        }

        @Override
        public BatchRead readBatch(long watermark, Set<Long> excludedIds, OutboxPosition after, int limit) {
            return real.readBatch(watermark, excludedIds, after, limit);
        }

        @Override
        public List<AccountCard> loadBucket(Bucket bucket, RunMode runMode, Group0Scope group0Scope) {
            return real.loadBucket(bucket, runMode, group0Scope);
        }

        @Override
        public Map<Long, AccountCard> loadCards(Collection<Long> ids) {
            return real.loadCards(ids);
        }

        @Override
        public void loadAllCards(Consumer<? super AccountCard> sink) {
            real.loadAllCards(sink);
        }

        @Override
        public List<GroupInfo> activeGroups() {
            return real.activeGroups();
        }

        @Override
        public Set<String> platforms() {
            return real.platforms();
        }

        @Override
        public Instant databaseNow() {
            return real.databaseNow();
        }

        @Override
        public OutboxSource outbox() {
            return real.outbox();
        }
    }
}
