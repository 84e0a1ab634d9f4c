package dev.roster.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.config.ProjectionConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.internal.Universe;
import dev.roster.core.outbox.OutboxSource;
import dev.roster.core.projection.Lease;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.PublishOutcome;
import dev.roster.core.projection.VersionTicket;
import dev.roster.core.projection.WatermarkOutcome;
import dev.roster.core.replay.ReplayStep;
import dev.roster.core.service.SnapshotService;
import dev.roster.core.source.GroupInfo;
import dev.roster.core.source.SchedulingSource;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.AccountSpec;
import dev.roster.postgres.GroupRepository;
import dev.roster.redis.RedisProjection;
import dev.roster.testkit.ForwardingProjection;
import dev.roster.testkit.RedisHarness;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A replay batch that outlives the replayer lease (upstream RC-22 for the replayer lease, docs/upstream.md). Two
 * step-driven instances over one PostgreSQL database and one Redis prefix, lease TTL 1 s. Instance A holds the
 * lease; its source is gated, so one of its reads returns and then stalls past the TTL. Meanwhile a
 * newer change commits and instance B takes the lease over and replays from the stored watermark.
 * When A resumes it must not overwrite anything B wrote with what it read before (no lost change), its
 * late snapshot publish must be refused by version and its watermark write by the lease, and it must
 * notice that it lost the lease and step down. B must have applied every event once, in order.
 */
class ReplayerLeaseOutlivedTest {
    private static final Duration TTL = Duration.ofSeconds(1);
    private static final ServiceConfig CONFIG =
            ItEnv.CONFIG.withProjection(new ProjectionConfig(TTL, Duration.ofMillis(200), Duration.ofSeconds(60)));

    private ItEnv env;
    private RedisProjection redisA;
    private RedisProjection redisB;
    private GatedSource sourceA;
    private Recording projectionA;
    private SnapshotService a;
    private SnapshotService b;
    private long group;
    private long account;
    private long other;

    @BeforeEach
    void twoInstances() {
        env = new ItEnv("leaseoutlived");
        String prefix = RedisHarness.shared().keyPrefix(ReplayerLeaseOutlivedTest.class);
        redisA = env.projection(prefix);
        redisB = env.projection(prefix);
        group = new GroupRepository(env.ds).create("team", "openai");
        AccountRepository accounts = new AccountRepository(env.ds);
        account = accounts.create(AccountSpec.of("first", "openai", "apikey").withPriority(1), List.of(group));
        other = accounts.create(AccountSpec.of("second", "openai", "apikey").withPriority(3), List.of(group));
        sourceA = new GatedSource(env.source);
        projectionA = new Recording(redisA);
        projectionA.gate = sourceA;
        a = SnapshotService.newBuilder()
                .source(sourceA)
                .projection(projectionA)
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
        assertThat(a.ready()).isTrue();
        assertThat(b.replayer().pollOnce()).isEqualTo(ReplayStep.NOT_HOLDER);
    }

    @AfterEach
    void close() {
        sourceA.release();
        a.close();
        b.close();
        redisA.close();
        redisB.close();
        env.close();
    }

    /** A's card read returns and stalls; a newer change commits; B takes over; then A resumes. */
    @Test
    void staleCardReadPastTheLeaseIsNotWritten() {
        setPriority(account, 5);
        projectionA.recording = true;
        sourceA.armCards();
        CompletableFuture<ReplayStep> stalled =
                CompletableFuture.supplyAsync(() -> a.replayer().pollOnce());
        sourceA.awaitReached();
        setPriority(account, 7); // committed after A read the card with priority 5
        takeOver();
        assertThat(redisB.card(account).value())
                .get()
                .extracting(AccountCard::priority)
                .isEqualTo(7);

        sourceA.release();
        assertThat(stalled.join()).as("A's step after the stall").isEqualTo(ReplayStep.NOT_HOLDER);
        assertThat(a.isReplayer()).as("A stepped down").isFalse();
        assertConverged();
        // It noticed before writing anything: no card, and no watermark write to be fenced.
        assertThat(projectionA.watermarks)
                .as("A's watermark writes after the stall")
                .isEmpty();
        // A stays down while B holds the lease.
        assertThat(a.replayer().pollOnce()).isEqualTo(ReplayStep.NOT_HOLDER);
    }

    /** A allocated versions and computed its buckets, stalls before publishing; B takes over; A resumes. */
    @Test
    void stalePublishAndWatermarkPastTheLeaseAreRefused() {
        setPriority(account, 5);
        projectionA.recording = true;
        sourceA.armBuckets();
        CompletableFuture<ReplayStep> stalled =
                CompletableFuture.supplyAsync(() -> a.replayer().pollOnce());
        sourceA.awaitReached();
        Bucket gated = sourceA.gatedBucket;
        setPriority(account, 7);
        takeOver();
        long activeByB = redisB.readSnapshot(gated).value().orElseThrow().version();

        sourceA.release();
        assertThat(stalled.join()).as("A's step after the stall").isEqualTo(ReplayStep.NOT_HOLDER);
        assertThat(a.isReplayer()).as("A stepped down").isFalse();
        assertThat(projectionA.outcomes.get(gated))
                .as("A's late publish of " + gated + " (ticket older than B's)")
                .containsExactly(PublishOutcome.SUPERSEDED);
        assertThat(projectionA.watermarks).as("A's watermark write").containsExactly(WatermarkOutcome.FENCED);
        assertThat(redisB.readSnapshot(gated).value().orElseThrow().version())
                .as("the active version is still B's")
                .isEqualTo(activeByB);
        assertConverged();
        assertThat(a.replayer().pollOnce()).isEqualTo(ReplayStep.NOT_HOLDER);
    }

    /** Awaits A's lease expiring (A is stalled, so nothing renews it) and B replaying as the holder. */
    private void takeOver() {
        long watermarkBefore = redisB.watermark().value().orElseThrow();
        await().atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> b.replayer().pollOnce() != ReplayStep.NOT_HOLDER);
        assertThat(b.replayer().drain()).isIn(ReplayStep.IDLE, ReplayStep.CAUGHT_UP);
        assertThat(b.isReplayer()).isTrue();
        assertThat(redisB.watermark().value().orElseThrow())
                .as("B moved the watermark past both changes")
                .isGreaterThan(watermarkBefore);
    }

    /** B's state equals the database: every card, every bucket of the group and of group 0, the watermark. */
    private void assertConverged() {
        // Counted in events, not by the watermark: an idle poll moves the watermark to the horizon, which
        // any other transaction of the server (a last-used flush) moves too.
        long applied = b.replayer().applied();
        assertThat(b.replayer().drain()).isIn(ReplayStep.IDLE, ReplayStep.CAUGHT_UP);
        assertThat(b.replayer().applied())
                .as("nothing was left for B to replay after A resumed")
                .isEqualTo(applied);
        Map<Long, AccountCard> truth = env.source.loadCards(List.of(account, other));
        for (long id : List.of(account, other)) {
            assertThat(redisB.card(id).value())
                    .as("card of account " + id)
                    .get()
                    .usingRecursiveComparison()
                    .ignoringFields("updatedAt")
                    .isEqualTo(truth.get(id));
        }
        List<Bucket> buckets = new ArrayList<>(Universe.canonical(group, "openai"));
        buckets.addAll(Universe.canonical(0, "openai"));
        for (Bucket bucket : buckets) {
            List<Long> want = ids(env.source.loadBucket(bucket, CONFIG.runMode(), CONFIG.effectiveGroup0Scope()));
            assertThat(ids(redisB.readSnapshot(bucket).value().orElseThrow().cards()))
                    .as("snapshot of " + bucket)
                    .isEqualTo(want);
            assertThat(ids(b.list(
                                    bucket.groupId() == 0 ? null : bucket.groupId(),
                                    "openai",
                                    bucket.mode() == Mode.FORCED)
                            .accounts()))
                    .as("B's answer for " + bucket)
                    .isEqualTo(want);
        }
        assertThat(ids(env.source.loadBucket(buckets.getFirst(), CONFIG.runMode(), CONFIG.effectiveGroup0Scope())))
                .as("the newer priority (7) orders the account after the other one (3)")
                .containsExactly(other, account);
    }

    private void setPriority(long id, int priority) {
        env.sql("UPDATE accounts SET priority = " + priority + " WHERE id = " + id);
    }

    private static List<Long> ids(List<AccountCard> cards) {
        return cards.stream().map(AccountCard::id).toList();
    }

    /**
     * The real PostgreSQL source; once armed, the next card read runs, then stops the calling thread
     * until released: a query that returned just before a long pause. Armed for "buckets", A's next
     * batch publish stops the same way (see {@link Recording#publishAll}).
     */
    static final class GatedSource implements SchedulingSource {
        private final SchedulingSource real;
        private final CountDownLatch reached = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);
        volatile String armed = "";
        volatile Bucket gatedBucket;

        GatedSource(SchedulingSource real) {
            this.real = real;
        }

        void armCards() {
            armed = "cards";
        }

        void armBuckets() {
            armed = "buckets";
        }

        void awaitReached() {
            try {
                assertThat(reached.await(30, TimeUnit.SECONDS))
                        .as("the gated read was reached")
                        .isTrue();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for the gate", e);
            }
        }

        void release() {
            released.countDown();
        }

        private void gate(String what) {
            synchronized (this) {
                if (!armed.equals(what)) {
                    return;
                }
                armed = "";
            }
            reached.countDown();
            try {
                if (!released.await(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("gate never released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted at the gate", e);
            }
        }

        @Override
        public List<AccountCard> loadBucket(
                Bucket bucket, dev.roster.core.RunMode runMode, dev.roster.core.Group0Scope group0Scope) {
            return real.loadBucket(bucket, runMode, group0Scope);
        }

        @Override
        public void loadAllCards(java.util.function.Consumer<? super AccountCard> sink) {
            real.loadAllCards(sink);
        }

        @Override
        public Map<Long, AccountCard> loadCards(Collection<Long> ids) {
            Map<Long, AccountCard> cards = real.loadCards(ids);
            gate("cards");
            return cards;
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

    /** The real projection, recording A's publish outcomes per bucket and its watermark outcomes. */
    static final class Recording extends ForwardingProjection {
        final Map<Bucket, List<PublishOutcome>> outcomes = new java.util.concurrent.ConcurrentHashMap<>();
        final List<WatermarkOutcome> watermarks = new CopyOnWriteArrayList<>();
        volatile boolean recording;
        /** Where a batch publish of A stalls when the source is armed for "buckets". */
        volatile GatedSource gate;

        Recording(Projection real) {
            super(real);
        }

        /**
         * The batch's publish: its versions are allocated and its buckets computed; when armed, it
         * stalls here before anything is published (on the group's bucket when the batch has one).
         */
        @Override
        public Map<Bucket, PublishOutcome> publishAll(
                String generation, Map<VersionTicket, List<AccountCard>> contents) {
            GatedSource g = gate;
            if (g != null && g.armed.equals("buckets") && !contents.isEmpty()) {
                Bucket first = contents.keySet().iterator().next().bucket();
                for (VersionTicket t : contents.keySet()) {
                    if (t.bucket().groupId() > 0) {
                        first = t.bucket();
                        break;
                    }
                }
                g.gatedBucket = first;
                g.gate("buckets");
            }
            return super.publishAll(generation, contents);
        }

        @Override
        public PublishOutcome publish(VersionTicket ticket, String generation, List<AccountCard> cards) {
            PublishOutcome o = delegate.publish(ticket, generation, cards);
            if (recording) {
                outcomes.computeIfAbsent(ticket.bucket(), k -> new CopyOnWriteArrayList<>())
                        .add(o);
            }
            return o;
        }

        @Override
        public WatermarkOutcome advanceWatermark(Lease replayerLease, long horizon) {
            WatermarkOutcome o = delegate.advanceWatermark(replayerLease, horizon);
            if (recording) {
                watermarks.add(o);
            }
            return o;
        }
    }
}
