package dev.roster.core.service;

import static dev.roster.core.service.FakeStore.card;
import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.GroupLink;
import dev.roster.core.projection.ProjectionUnavailableException;
import dev.roster.core.projection.PublishOutcome;
import dev.roster.core.projection.VersionTicket;
import dev.roster.core.replay.ReplayStep;
import dev.roster.testkit.ForwardingProjection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What a replay batch and a full rebuild read and recompute (decisions E11 to E13): many buckets read
 * from the database come from one pool load, a bucket whose publish failed is recomputed on the retry
 * although the retry sees no change, and the outbox statistics are read at most once a second after applied
 * batches. Step-driven on the fake clock over {@link FakeStore}.
 */
class ReplayerCostTest {
    private static final int GROUPS = 40;

    private Rig rig;
    private SnapshotService second;

    @AfterEach
    void close() {
        if (second != null) {
            second.close();
        }
        if (rig != null) {
            rig.close();
        }
    }

    /** {@link #GROUPS} groups with one openai account each: more than 32 buckets over 40 accounts. */
    private Rig manyGroups() {
        Rig r = Rig.standard();
        for (long g = 1; g <= GROUPS; g++) {
            r.store.seedGroup(g, "openai", "active");
            r.store.seed(card(g, "openai", (int) g, new GroupLink(g, 1)));
        }
        return r;
    }

    @Test
    void aNewLeaseHoldersFirstPublishOfManyBucketsIsOnePoolLoad() {
        rig = manyGroups();
        rig.started().close();
        rig.service = null;
        second = takeOver();
        rig.store.bucketQueries.clear();
        int loads = rig.store.poolLoads.get();
        for (long g = 1; g <= GROUPS; g++) {
            rig.store.upsert(card(g, "openai", 100 + (int) g, new GroupLink(g, 1)));
        }
        second.replayer().drain();
        // Every bucket is new to this process (decision M22): it used to be one query each.
        assertThat(rig.store.bucketQueries)
                .as("bucket queries of the groups' buckets")
                .noneMatch(b -> b.groupId() > 0);
        assertThat(rig.store.poolLoads.get() - loads)
                .as("one pool load for the database reads")
                .isEqualTo(1);
        assertPublishedPriorities(100);
    }

    @Test
    void aRebuildOnANewLeaseHolderReadsItsNeverAllocatedBucketsInOnePoolLoadAfterTheRest() {
        rig = manyGroups();
        rig.started().close();
        rig.service = null;
        second = takeOver();
        rig.store.bucketQueries.clear();
        int loads = rig.store.poolLoads.get();
        for (long g = 1; g <= GROUPS; g++) {
            rig.store.seed(card(g, "openai", 200 + (int) g, new GroupLink(g, 1)));
        }
        var done = second.requestFullRebuild("test");
        second.replayer().drain();
        done.join();
        assertThat(second.replayer().adoptions())
                .as("the replay thread took the rebuilt model")
                .isEqualTo(1);
        assertThat(rig.store.bucketQueries)
                .as("bucket queries of the groups' buckets")
                .noneMatch(b -> b.groupId() > 0);
        assertThat(rig.store.poolLoads.get() - loads)
                .as("the rebuild's load, then one load for the deferred database reads")
                .isEqualTo(2);
        assertPublishedPriorities(200);
        // Recorded as database reads: the model publishes again once the cursor passed them.
        rig.store.upsert(card(7, "openai", 7, new GroupLink(7, 1)));
        second.replayer().drain();
        Bucket seven = second.list(7L, "openai", false).bucket();
        assertThat(rig.projection.readSnapshot(seven).value().orElseThrow().cards())
                .extracting(AccountCard::priority)
                .containsExactly(7);
    }

    /** Every group's openai bucket, as published, holds its one account with priority {@code base + g}. */
    private void assertPublishedPriorities(int base) {
        for (long g = 1; g <= GROUPS; g++) {
            Bucket b = second.list(g, "openai", false).bucket();
            assertThat(rig.projection.readSnapshot(b).value().orElseThrow().cards())
                    .extracting(AccountCard::priority)
                    .containsExactly(base + (int) g);
        }
    }

    private SnapshotService takeOver() {
        SnapshotService s = SnapshotService.newBuilder()
                .source(rig.store)
                .projection(rig.projection)
                .config(rig.config)
                .clock(rig.clock)
                .inlineRebuilds(true)
                .build();
        rig.clock.advance(Duration.ofMinutes(5));
        s.replayer().drain();
        assertThat(s.rebuilder().runs())
                .as("the stored generation is taken over")
                .isZero();
        return s;
    }

    @Test
    void aFewBucketsAreStillReadOneQueryEach() {
        rig = Rig.standard();
        rig.store.seed(card(1, "openai", 1));
        SnapshotService s = rig.started();
        assertThat(rig.store.bucketQueries)
                .as("a handful of buckets: one query each")
                .isNotEmpty();
        assertThat(ids(s.list(null, "openai", false).accounts())).containsExactly(1L);
    }

    @Test
    void aBucketWhosePublishFailedIsRepublishedWhenTheRetrySeesNoChange() {
        rig = Rig.standard();
        AtomicBoolean down = new AtomicBoolean();
        rig.decorate = p -> new ForwardingProjection(p) {
            @Override
            public PublishOutcome publish(VersionTicket ticket, String generation, List<AccountCard> cards) {
                if (down.get()) {
                    throw new ProjectionUnavailableException("store down", null);
                }
                return super.publish(ticket, generation, cards);
            }
        };
        rig.store.seed(card(1, "openai", 1));
        rig.store.seed(card(2, "openai", 2));
        SnapshotService s = rig.started();
        // One publish of the bucket from the model first, so that the publisher knows its content.
        rig.store.upsert(card(2, "openai", 3));
        s.replayer().drain();
        assertThat(ids(s.list(null, "openai", false).accounts())).containsExactly(1L, 2L);

        down.set(true);
        rig.store.upsert(card(1, "openai", 9));
        assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.FAILED);
        down.set(false);
        rig.clock.advance(Duration.ofSeconds(10));
        // The retry re-reads account 1, which the model already holds: no change is seen this time.
        s.replayer().drain();
        Bucket openai = s.list(null, "openai", false).bucket();
        assertThat(ids(rig.projection.readSnapshot(openai).value().orElseThrow().cards()))
                .as("the change the failed publish carried")
                .containsExactly(2L, 1L);
    }

    @Test
    void appliedBatchesReadTheOutboxStatisticsAtMostOnceASecond() {
        rig = Rig.standard();
        rig.store.seed(card(1, "openai", 1));
        SnapshotService s = rig.started();
        int start = rig.store.statsReads.get();
        for (int i = 0; i < 5; i++) {
            rig.store.upsert(card(1, "openai", 10 + i));
            assertThat(s.replayer().pollOnce()).isEqualTo(ReplayStep.CAUGHT_UP);
        }
        assertThat(rig.store.statsReads.get() - start)
                .as("five batches within one second")
                .isLessThanOrEqualTo(1);
        rig.clock.advance(Duration.ofSeconds(1));
        rig.store.upsert(card(1, "openai", 20));
        s.replayer().pollOnce();
        assertThat(rig.store.statsReads.get() - start).as("a second later").isEqualTo(2);
    }

    private static List<Long> ids(List<AccountCard> cards) {
        return cards.stream().map(AccountCard::id).toList();
    }
}
