package dev.roster.testkit.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.outbox.CursorState;
import dev.roster.core.outbox.OutboxPosition;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.Invalidation;
import dev.roster.core.projection.Lease;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.PublishOutcome;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.projection.Subscription;
import dev.roster.core.projection.VersionTicket;
import dev.roster.core.projection.WatermarkOutcome;
import dev.roster.testkit.Fixtures;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link Projection}, run against every implementation. A subclass supplies {@link
 * #open(String)} (a new client over a namespace; two clients of one namespace see the same data, so
 * several clients can race) and {@link #elapse(Duration)} (moves a fake clock; a real store does
 * nothing and the suite awaits the expiry instead).
 *
 * <p>Implementations must be configured with {@link #GRACE} as their grace period. Every test gets a
 * fresh namespace.
 */
public abstract class ProjectionContract {
    /** The grace period the implementation under test must be configured with. */
    public static final Duration GRACE = Duration.ofMillis(1500);

    /** A lease TTL long enough never to expire during a test. */
    protected static final Duration LONG_TTL = Duration.ofSeconds(30);

    /** A lease TTL the expiry tests wait out. */
    protected static final Duration SHORT_TTL = Duration.ofMillis(400);

    private static final AtomicLong NAMESPACES = new AtomicLong();
    private static final Duration AWAIT = Duration.ofSeconds(15);

    private final List<Projection> opened = new CopyOnWriteArrayList<>();

    /** The current test's namespace. */
    protected String namespace;

    /** The current test's first client. */
    protected Projection projection;

    /** Opens a new client over {@code namespace} (configured with {@link #GRACE}). */
    protected abstract Projection open(String namespace);

    /** Lets {@code d} pass for TTL purposes (a fake clock advances; a real store does nothing). */
    protected abstract void elapse(Duration d);

    /** Opens another client of the current namespace; closed after the test. */
    protected final Projection client() {
        Projection p = open(namespace);
        opened.add(p);
        return p;
    }

    @BeforeEach
    void openProjection() {
        namespace = "n" + NAMESPACES.incrementAndGet();
        projection = client();
    }

    @AfterEach
    void closeProjections() {
        opened.forEach(Projection::close);
        opened.clear();
    }

    /** A bucket of this suite. */
    protected static Bucket bucket(long group) {
        return Bucket.of(group, "anthropic", Mode.MIXED);
    }

    private VersionTicket allocate(Projection p, Bucket b) {
        return p.allocateVersion(b).orElseThrow(() -> new AssertionError(b + " unexpectedly retired"));
    }

    private static Snapshot hit(Lookup<Snapshot> l) {
        assertThat(l).isInstanceOf(Lookup.Hit.class);
        return l.value().orElseThrow();
    }

    // ---- snapshots -------------------------------------------------------------------------

    @Test
    void readSnapshot_missWhenNeverPublished() {
        assertThat(projection.readSnapshot(bucket(1))).isEqualTo(Lookup.miss());
        assertThat(projection.readSnapshot(bucket(1), 1)).isEqualTo(Lookup.miss());
    }

    @Test
    void publish_emptyBucketIsAValidHit() {
        VersionTicket t = allocate(projection, bucket(1));
        assertThat(projection.publish(t, "gen1", List.of())).isEqualTo(PublishOutcome.ACTIVATED);

        Snapshot s = hit(projection.readSnapshot(bucket(1)));
        assertThat(s.cards()).isEmpty();
        assertThat(s.version()).isEqualTo(t.version());
        assertThat(s.generation()).isEqualTo("gen1");
        assertThat(s.bucket()).isEqualTo(bucket(1));
    }

    @Test
    void publish_roundTripsEveryCardFieldInOrder() {
        List<AccountCard> cards = new ArrayList<>(Fixtures.cards(1, 40));
        Collections.reverse(cards);
        VersionTicket t = allocate(projection, bucket(2));
        projection.publish(t, "gen1", cards);

        Snapshot s = hit(client().readSnapshot(bucket(2)));
        assertThat(s.cards()).containsExactlyElementsOf(cards);
    }

    @Test
    void allocateVersion_countsPerBucket() {
        assertThat(allocate(projection, bucket(1)).version()).isEqualTo(1);
        assertThat(allocate(projection, bucket(1)).version()).isEqualTo(2);
        assertThat(allocate(client(), bucket(2)).version()).isEqualTo(1);
    }

    @Test
    void publish_olderVersionNeverReplacesNewer() {
        VersionTicket older = allocate(projection, bucket(1));
        VersionTicket newer = allocate(projection, bucket(1));
        assertThat(projection.publish(newer, "gen1", Fixtures.cards(10, 2))).isEqualTo(PublishOutcome.ACTIVATED);
        assertThat(client().publish(older, "gen1", Fixtures.cards(20, 3))).isEqualTo(PublishOutcome.SUPERSEDED);
        assertThat(projection.publish(newer, "gen1", Fixtures.cards(30, 1))).isEqualTo(PublishOutcome.SUPERSEDED);

        Snapshot s = hit(projection.readSnapshot(bucket(1)));
        assertThat(s.version()).isEqualTo(newer.version());
        assertThat(s.cards()).isEqualTo(Fixtures.cards(10, 2));
    }

    @Test
    void publish_supersededVersionReadableForGraceThenExpires() {
        VersionTicket v1 = allocate(projection, bucket(1));
        projection.publish(v1, "gen1", Fixtures.cards(1, 3));
        VersionTicket v2 = allocate(projection, bucket(1));
        projection.publish(v2, "gen1", Fixtures.cards(4, 2));

        assertThat(hit(projection.readSnapshot(bucket(1), v1.version())).cards())
                .isEqualTo(Fixtures.cards(1, 3));
        assertThat(hit(projection.readSnapshot(bucket(1), v2.version())).cards())
                .isEqualTo(Fixtures.cards(4, 2));

        elapse(GRACE.plusMillis(100));
        await().atMost(AWAIT)
                .until(() -> !projection.readSnapshot(bucket(1), v1.version()).isHit());
        assertThat(hit(projection.readSnapshot(bucket(1))).version()).isEqualTo(v2.version());
    }

    @Test
    void publish_notifiesSubscribersOfEveryClient() {
        ConcurrentLinkedQueue<Invalidation> seen = new ConcurrentLinkedQueue<>();
        try (Subscription ignored = client().subscribe(seen::add)) {
            VersionTicket t = allocate(projection, bucket(3));
            projection.publish(t, "genX", List.of());
            await().atMost(AWAIT).until(() -> seen.contains(new Invalidation(bucket(3), "genX", t.version())));
        }
    }

    @Test
    void publish_doesNotNotifyWhenNothingActivated() {
        ConcurrentLinkedQueue<Invalidation> seen = new ConcurrentLinkedQueue<>();
        try (Subscription ignored = projection.subscribe(seen::add)) {
            VersionTicket older = allocate(projection, bucket(4));
            VersionTicket newer = allocate(projection, bucket(4));
            projection.publish(newer, "g", List.of());
            projection.publish(older, "g", List.of());
            VersionTicket marker = allocate(projection, bucket(5));
            projection.publish(marker, "g", List.of());
            // Delivery is ordered per publisher, so once the marker arrives the loser would have too.
            await().atMost(AWAIT)
                    .until(() -> seen.stream().anyMatch(i -> i.bucket().equals(bucket(5))));
            assertThat(seen)
                    .filteredOn(i -> i.bucket().equals(bucket(4)))
                    .extracting(Invalidation::version)
                    .containsExactly(newer.version());
        }
    }

    @Test
    void publish_registersBucket() {
        projection.publish(allocate(projection, bucket(6)), "g", List.of());
        projection.register(bucket(7));
        assertThat(client().buckets()).contains(bucket(6), bucket(7)).doesNotContain(bucket(8));
    }

    // ---- batch forms -----------------------------------------------------------------------

    @Test
    void allocateVersions_sameTicketsAsTheSingleFormAndNoneForRetiredBuckets() {
        VersionTicket first = allocate(projection, bucket(1));
        projection.retire(bucket(2));
        projection.retire(bucket(3));
        projection.reopen(bucket(3));
        Map<Bucket, Optional<VersionTicket>> got =
                client().allocateVersions(List.of(bucket(1), bucket(2), bucket(3), bucket(4)));

        // Epochs are the store's own (a fresh one need not start at 0): the single form must agree.
        VersionTicket next1 = allocate(projection, bucket(1));
        VersionTicket next3 = allocate(projection, bucket(3));
        VersionTicket next4 = allocate(projection, bucket(4));
        assertThat(got)
                .containsExactly(
                        Map.entry(
                                bucket(1),
                                Optional.of(new VersionTicket(bucket(1), first.version() + 1, first.epoch()))),
                        Map.entry(bucket(2), Optional.empty()),
                        // Reopened: the counter kept counting from the retire.
                        Map.entry(bucket(3), Optional.of(new VersionTicket(bucket(3), 1, next3.epoch()))),
                        Map.entry(bucket(4), Optional.of(new VersionTicket(bucket(4), 1, next4.epoch()))));
        // The batch moved the same counters the single form reads.
        assertThat(next1.version()).isEqualTo(first.version() + 2);
        assertThat(next4.version()).isEqualTo(2);
        assertThat(projection.allocateVersions(List.of())).isEmpty();
    }

    @Test
    void publishAll_mixedBatch_eachTicketHasTheOutcomeOfTheSingleForm() {
        // Subscribed before the set-up, whose own notices are awaited and dropped below: on a cluster a
        // notice travels the cluster bus, so one sent before a later subscription can still reach it.
        ConcurrentLinkedQueue<Invalidation> seen = new ConcurrentLinkedQueue<>();
        Subscription subscription = client().subscribe(seen::add);
        // bucket 1: a fresh ticket over an active snapshot (activates; the old one enters its grace)
        VersionTicket old1 = allocate(projection, bucket(1));
        projection.publish(old1, "g0", Fixtures.cards(1, 2));
        VersionTicket fresh = allocate(projection, bucket(1));
        // bucket 2: a stale ticket, a newer one was published meanwhile (superseded)
        VersionTicket stale = allocate(projection, bucket(2));
        VersionTicket newer = allocate(projection, bucket(2));
        projection.publish(newer, "g0", Fixtures.cards(20, 1));
        // bucket 3: allocated, then the bucket retired (retired)
        VersionTicket retired = allocate(projection, bucket(3));
        projection.retire(bucket(3));
        // bucket 4: allocated, then retired and reopened (fenced)
        VersionTicket fenced = allocate(projection, bucket(4));
        projection.retire(bucket(4));
        projection.reopen(bucket(4));
        // bucket 5: a first publish, empty
        VersionTicket empty = allocate(projection, bucket(5));
        List<Invalidation> setUp = List.of(
                new Invalidation(bucket(1), "g0", old1.version()),
                new Invalidation(bucket(2), "g0", newer.version()),
                Invalidation.retiredBucket(bucket(3)),
                Invalidation.retiredBucket(bucket(4)));
        await().atMost(AWAIT).until(() -> seen.containsAll(setUp));
        seen.clear();

        Map<Bucket, PublishOutcome> got;
        try (Subscription ignored = subscription) {
            Map<VersionTicket, List<AccountCard>> contents = new java.util.LinkedHashMap<>();
            contents.put(fresh, Fixtures.cards(10, 3));
            contents.put(stale, Fixtures.cards(30, 2));
            contents.put(retired, Fixtures.cards(40, 2));
            contents.put(fenced, Fixtures.cards(50, 2));
            contents.put(empty, List.of());
            got = client().publishAll("g1", contents);
            await().atMost(AWAIT).until(() -> seen.contains(new Invalidation(bucket(5), "g1", empty.version())));
            VersionTicket marker = allocate(projection, bucket(6));
            projection.publish(marker, "g1", List.of());
            await().atMost(AWAIT)
                    .until(() -> seen.stream().anyMatch(i -> i.bucket().equals(bucket(6))));
        }

        assertThat(got)
                .containsOnly(
                        Map.entry(bucket(1), PublishOutcome.ACTIVATED),
                        Map.entry(bucket(2), PublishOutcome.SUPERSEDED),
                        Map.entry(bucket(3), PublishOutcome.RETIRED),
                        Map.entry(bucket(4), PublishOutcome.FENCED),
                        Map.entry(bucket(5), PublishOutcome.ACTIVATED));
        Snapshot s1 = hit(projection.readSnapshot(bucket(1)));
        assertThat(s1.version()).isEqualTo(fresh.version());
        assertThat(s1.generation()).isEqualTo("g1");
        assertThat(s1.cards()).isEqualTo(Fixtures.cards(10, 3));
        assertThat(hit(projection.readSnapshot(bucket(1), old1.version())).cards())
                .isEqualTo(Fixtures.cards(1, 2));
        assertThat(hit(projection.readSnapshot(bucket(2))).cards()).isEqualTo(Fixtures.cards(20, 1));
        assertThat(projection.readSnapshot(bucket(3))).isEqualTo(Lookup.miss());
        assertThat(projection.readSnapshot(bucket(4))).isEqualTo(Lookup.miss());
        assertThat(hit(projection.readSnapshot(bucket(5))).cards()).isEmpty();
        assertThat(projection.buckets())
                .contains(bucket(1), bucket(2), bucket(5))
                .doesNotContain(bucket(3), bucket(4));
        // Only activations notify, once each.
        assertThat(seen)
                .filteredOn(i -> !i.bucket().equals(bucket(6)))
                .containsExactlyInAnyOrder(
                        new Invalidation(bucket(1), "g1", fresh.version()),
                        new Invalidation(bucket(5), "g1", empty.version()));
    }

    @Test
    void publishAll_ofARebuildsSize_activatesEveryBucketAndRegistersIt() {
        // More buckets than one pipeline chunk of any implementation, so chunk borders are crossed.
        int n = 1_200;
        List<Bucket> all = new ArrayList<>();
        for (long g = 1; g <= n; g++) {
            all.add(bucket(g));
        }
        Map<Bucket, Optional<VersionTicket>> tickets = projection.allocateVersions(all);
        assertThat(tickets.keySet()).containsExactlyElementsOf(all);
        Map<VersionTicket, List<AccountCard>> contents = new java.util.LinkedHashMap<>();
        for (Optional<VersionTicket> t : tickets.values()) {
            VersionTicket ticket = t.orElseThrow();
            contents.put(ticket, Fixtures.cards(ticket.bucket().groupId() * 10, (int)
                    (ticket.bucket().groupId() % 3)));
        }
        Map<Bucket, PublishOutcome> got = projection.publishAll("g1", contents);

        assertThat(got).hasSize(n).allSatisfy((b, o) -> assertThat(o).isEqualTo(PublishOutcome.ACTIVATED));
        assertThat(client().buckets()).containsAll(all);
        for (long g : List.of(1L, 256L, 257L, 1_000L, 1_001L, 1_200L)) {
            assertThat(hit(projection.readSnapshot(bucket(g))).cards())
                    .isEqualTo(Fixtures.cards(g * 10, (int) (g % 3)));
        }
        assertThat(client().withoutActiveSnapshot(all)).isEmpty();
        assertThat(projection.publishAll("g1", Map.of())).isEmpty();
    }

    @Test
    void withoutActiveSnapshot_namesExactlyTheBucketsReadSnapshotMisses() {
        projection.publish(allocate(projection, bucket(1)), "g", Fixtures.cards(1, 2));
        projection.publish(allocate(projection, bucket(2)), "g", List.of());
        projection.publish(allocate(projection, bucket(3)), "g", Fixtures.cards(1, 2));
        projection.retire(bucket(3));
        projection.publish(allocate(projection, bucket(4)), "g", Fixtures.cards(1, 2));
        projection.retire(bucket(4));
        projection.reopen(bucket(4));
        allocate(projection, bucket(5)); // allocated, never published

        List<Bucket> asked = List.of(bucket(1), bucket(2), bucket(3), bucket(4), bucket(5), bucket(6));
        Set<Bucket> got = client().withoutActiveSnapshot(asked);

        assertThat(got).containsExactlyInAnyOrder(bucket(3), bucket(4), bucket(5), bucket(6));
        for (Bucket b : asked) {
            assertThat(got.contains(b))
                    .as(b.text())
                    .isEqualTo(!projection.readSnapshot(b).isHit());
        }
        assertThat(projection.withoutActiveSnapshot(List.of())).isEmpty();
    }

    // ---- retire and reopen -----------------------------------------------------------------

    @Test
    void retire_removesSnapshotAndRegistryEntry() {
        projection.publish(allocate(projection, bucket(1)), "g", Fixtures.cards(1, 2));
        projection.publish(allocate(projection, bucket(2)), "g", Fixtures.cards(1, 2));
        projection.retire(bucket(1));

        assertThat(projection.readSnapshot(bucket(1))).isEqualTo(Lookup.miss());
        assertThat(projection.isRetired(bucket(1))).isTrue();
        assertThat(projection.buckets()).doesNotContain(bucket(1)).contains(bucket(2));
        assertThat(projection.allocateVersion(bucket(1))).isEmpty();
        assertThat(projection.readSnapshot(bucket(2)).isHit()).isTrue();
    }

    @Test
    void retire_notifiesSubscribersOfEveryClientOnce() {
        ConcurrentLinkedQueue<Invalidation> seen = new ConcurrentLinkedQueue<>();
        try (Subscription ignored = client().subscribe(seen::add)) {
            projection.publish(allocate(projection, bucket(3)), "genX", Fixtures.cards(1, 2));
            projection.retire(bucket(3));
            // A near cache must stop serving the bucket on this notice, not at its next version check.
            await().atMost(AWAIT).until(() -> seen.contains(Invalidation.retiredBucket(bucket(3))));

            // Retiring again changes nothing, so it tells nobody; the marker bounds the wait for a stray one.
            projection.retire(bucket(3));
            projection.publish(allocate(projection, bucket(5)), "genX", List.of());
            await().atMost(AWAIT)
                    .until(() -> seen.stream().anyMatch(i -> i.bucket().equals(bucket(5))));
            assertThat(seen).filteredOn(Invalidation::retired).containsExactly(Invalidation.retiredBucket(bucket(3)));
        }
    }

    @Test
    void retire_keepsLastSnapshotReadableByVersionForGrace() {
        VersionTicket t = allocate(projection, bucket(1));
        projection.publish(t, "g", Fixtures.cards(1, 2));
        projection.retire(bucket(1));
        assertThat(hit(projection.readSnapshot(bucket(1), t.version())).cards()).isEqualTo(Fixtures.cards(1, 2));

        elapse(GRACE.plusMillis(100));
        await().atMost(AWAIT)
                .until(() -> !projection.readSnapshot(bucket(1), t.version()).isHit());
    }

    @Test
    void retire_fencesWriterThatAllocatedBeforeEvenAfterReopen() {
        VersionTicket early = allocate(projection, bucket(1));
        client().retire(bucket(1));
        assertThat(projection.publish(early, "g", Fixtures.cards(1, 1))).isEqualTo(PublishOutcome.RETIRED);

        client().reopen(bucket(1));
        assertThat(projection.isRetired(bucket(1))).isFalse();
        assertThat(projection.readSnapshot(bucket(1))).isEqualTo(Lookup.miss());
        assertThat(projection.publish(early, "g", Fixtures.cards(1, 1))).isEqualTo(PublishOutcome.FENCED);
        assertThat(projection.readSnapshot(bucket(1))).isEqualTo(Lookup.miss());

        VersionTicket late = allocate(projection, bucket(1));
        assertThat(projection.publish(late, "g", Fixtures.cards(2, 1))).isEqualTo(PublishOutcome.ACTIVATED);
        assertThat(hit(projection.readSnapshot(bucket(1))).cards()).isEqualTo(Fixtures.cards(2, 1));
    }

    @Test
    void retire_andReopenAreIdempotent() {
        VersionTicket early = allocate(projection, bucket(1));
        projection.retire(bucket(1));
        projection.reopen(bucket(1));
        VersionTicket between = allocate(projection, bucket(1));
        projection.reopen(bucket(1));
        assertThat(projection.publish(between, "g", List.of())).isEqualTo(PublishOutcome.ACTIVATED);
        assertThat(projection.publish(early, "g", List.of())).isEqualTo(PublishOutcome.FENCED);

        projection.retire(bucket(1));
        VersionTicket none = new VersionTicket(bucket(1), between.version() + 10, between.epoch() + 1);
        projection.retire(bucket(1));
        projection.reopen(bucket(1));
        // The second retire must not have raised the epoch again.
        assertThat(projection.publish(none, "g", List.of())).isEqualTo(PublishOutcome.ACTIVATED);
    }

    @Test
    void retire_concurrentWritersThatAllocatedBeforeNeverRepublish() throws Exception {
        List<VersionTicket> tickets = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            tickets.add(allocate(i % 2 == 0 ? projection : client(), bucket(1)));
        }
        projection.retire(bucket(1));
        projection.reopen(bucket(1));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<PublishOutcome>> outcomes = new ArrayList<>();
            for (VersionTicket t : tickets) {
                Projection p = client();
                outcomes.add(pool.submit(() -> p.publish(t, "g", Fixtures.cards(t.version(), 1))));
            }
            for (Future<PublishOutcome> f : outcomes) {
                assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(PublishOutcome.FENCED);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(projection.readSnapshot(bucket(1))).isEqualTo(Lookup.miss());
    }

    // ---- cards and last-used ---------------------------------------------------------------

    @Test
    void cards_putGetDelete() {
        assertThat(projection.card(1)).isEqualTo(Lookup.miss());
        projection.putCards(Fixtures.cards(1, 3));
        assertThat(client().card(2)).isEqualTo(Lookup.hit(Fixtures.card(2)));
        assertThat(projection.cards(List.of(3L, 99L, 1L)))
                .containsExactly(
                        Map.entry(3L, Lookup.hit(Fixtures.card(3))),
                        Map.entry(99L, Lookup.miss()),
                        Map.entry(1L, Lookup.hit(Fixtures.card(1))));
        projection.deleteCards(List.of(2L, 42L));
        assertThat(projection.card(2)).isEqualTo(Lookup.miss());
        assertThat(projection.card(1).isHit()).isTrue();
    }

    @Test
    void cardIds_listsEveryStoredCardAndNothingElse() {
        // More than one page of a key scan, beside snapshots, last-used values and state of the same
        // namespace, and a card of another namespace: only this namespace's card ids come back.
        projection.putCards(Fixtures.cards(1, 1_500));
        projection.markUsed(Map.of(7L, Instant.ofEpochMilli(1_700_000_000_000L)));
        projection.publish(allocate(projection, bucket(1)), "g", Fixtures.cards(1, 3));
        projection.deleteCards(List.of(2L, 1_000L));
        try (Projection other = open(namespace + "other")) {
            other.putCards(List.of(Fixtures.card(5_000)));
            Set<Long> want = new java.util.TreeSet<>();
            for (long id = 1; id <= 1_500; id++) {
                want.add(id);
            }
            want.removeAll(List.of(2L, 1_000L));
            assertThat(client().cardIds()).containsExactlyInAnyOrderElementsOf(want);
            assertThat(other.cardIds()).containsExactly(5_000L);
        }
    }

    @Test
    void replayCursor_missUntilPublishedThenTheLatestForEveryClient() {
        assertThat(projection.replayCursor()).isEqualTo(Lookup.miss());
        projection.putReplayCursor(new CursorState(42, Set.of(7L, 3L, 1_000_000_000_000L)));
        assertThat(client().replayCursor())
                .isEqualTo(Lookup.hit(new CursorState(42, Set.of(3L, 7L, 1_000_000_000_000L))));
        projection.putReplayCursor(new CursorState(43, Set.of()));
        assertThat(client().replayCursor()).isEqualTo(Lookup.hit(new CursorState(43, Set.of())));
        CursorState sweeping = new CursorState(
                44, Set.of(9L), "40:50:41,45", "44:52:", new OutboxPosition(-2L, 12L)); // an unsigned txid
        projection.putReplayCursor(sweeping);
        assertThat(client().replayCursor()).isEqualTo(Lookup.hit(sweeping));
    }

    @Test
    void cardIds_emptyWhenNoCardIsStored() {
        projection.publish(allocate(projection, bucket(1)), "g", Fixtures.cards(1, 2));
        assertThat(projection.cardIds()).isEmpty();
    }

    @Test
    void lastUsed_movesOnlyForwardAndOnlyForExistingCards() {
        Instant t = Instant.ofEpochMilli(1_700_000_000_123L);
        projection.putCards(Fixtures.cards(1, 2));
        projection.markUsed(Map.of(1L, t, 3L, t));
        projection.markUsed(Map.of(1L, t.minusSeconds(5), 2L, t.plusMillis(1)));

        assertThat(client().lastUsed(List.of(1L, 2L, 3L)))
                .containsExactly(Map.entry(1L, t), Map.entry(2L, t.plusMillis(1)));
        projection.markUsed(Map.of(1L, t.plusSeconds(1)));
        assertThat(projection.lastUsed(List.of(1L))).containsEntry(1L, t.plusSeconds(1));
    }

    @Test
    void lastUsed_survivesCardRewriteAndPublishAndGoesWithDelete() {
        Instant t = Instant.ofEpochMilli(1_700_000_000_000L);
        projection.putCards(Fixtures.cards(1, 2));
        projection.markUsed(Map.of(1L, t, 2L, t));
        projection.putCards(Fixtures.cards(1, 2));
        projection.publish(allocate(projection, bucket(1)), "g", Fixtures.cards(1, 2));
        assertThat(projection.lastUsed(List.of(1L, 2L))).containsExactly(Map.entry(1L, t), Map.entry(2L, t));

        projection.deleteCards(List.of(1L));
        assertThat(projection.lastUsed(List.of(1L, 2L))).containsOnlyKeys(2L);
        projection.putCards(List.of(Fixtures.card(1)));
        assertThat(projection.lastUsed(List.of(1L))).isEmpty();
    }

    @Test
    void lastUsed_appliesLargeBatches() {
        projection.putCards(Fixtures.cards(1, 600));
        Map<Long, Instant> batch = new java.util.HashMap<>();
        for (long id = 1; id <= 600; id++) {
            batch.put(id, Instant.ofEpochMilli(1_000_000L + id));
        }
        projection.markUsed(batch);
        assertThat(projection.lastUsed(batch.keySet())).isEqualTo(batch);
    }

    // ---- watermark and generation ----------------------------------------------------------

    @Test
    void watermark_advancesOnlyForwardAndOnlyForTheReplayerLeaseHolder() {
        assertThat(projection.watermark()).isEqualTo(Lookup.miss());
        Lease lease =
                projection.tryAcquireLease(Projection.REPLAYER_LEASE, LONG_TTL).orElseThrow();

        assertThat(projection.advanceWatermark(lease, 9_007_199_254_740_993L)).isEqualTo(WatermarkOutcome.ADVANCED);
        // 2^53 + 1 vs 2^53: must compare exactly, not as doubles.
        assertThat(projection.advanceWatermark(lease, 9_007_199_254_740_992L)).isEqualTo(WatermarkOutcome.NOT_NEWER);
        assertThat(projection.advanceWatermark(lease, 9_007_199_254_740_993L)).isEqualTo(WatermarkOutcome.NOT_NEWER);
        assertThat(projection.advanceWatermark(lease, 9_007_199_254_740_994L)).isEqualTo(WatermarkOutcome.ADVANCED);
        assertThat(client().watermark()).isEqualTo(Lookup.hit(9_007_199_254_740_994L));

        Lease forged = new Lease(Projection.REPLAYER_LEASE, "0123456789abcdef0123456789abcdef");
        assertThat(projection.advanceWatermark(forged, Long.MAX_VALUE)).isEqualTo(WatermarkOutcome.FENCED);
        projection.releaseLease(lease);
        assertThat(projection.advanceWatermark(lease, Long.MAX_VALUE)).isEqualTo(WatermarkOutcome.FENCED);
        assertThat(projection.watermark()).isEqualTo(Lookup.hit(9_007_199_254_740_994L));
    }

    @Test
    void watermark_rejectsBadArguments() {
        Lease other = projection.tryAcquireLease("rebuild:1", LONG_TTL).orElseThrow();
        assertThatThrownBy(() -> projection.advanceWatermark(other, 5))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("replayer");
        Lease lease =
                projection.tryAcquireLease(Projection.REPLAYER_LEASE, LONG_TTL).orElseThrow();
        assertThatThrownBy(() -> projection.advanceWatermark(lease, -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-1");
    }

    @Test
    void generation_missUntilStored() {
        assertThat(projection.generation()).isEqualTo(Lookup.miss());
        Generation g = Generation.random(Generation.fingerprintOf("standard", "all", "1"));
        projection.putGeneration(g);
        assertThat(client().generation()).isEqualTo(Lookup.hit(g));
        assertThat(g.matches(Generation.fingerprintOf("standard", "ungrouped", "1")))
                .isFalse();
    }

    // ---- leases ----------------------------------------------------------------------------

    @Test
    void lease_isExclusiveRenewableAndReleasedOnlyByItsOwner() {
        Lease held = projection
                .tryAcquireLease("rebuild:1:anthropic:mixed", LONG_TTL)
                .orElseThrow();
        assertThat(held.token()).matches("[0-9a-f]{32}");
        Projection other = client();
        assertThat(other.tryAcquireLease("rebuild:1:anthropic:mixed", LONG_TTL)).isEmpty();
        assertThat(other.tryAcquireLease("rebuild:2:anthropic:mixed", LONG_TTL)).isPresent();

        Lease wrong = new Lease(held.name(), "ffffffffffffffffffffffffffffffff");
        assertThat(other.releaseLease(wrong)).isFalse();
        assertThat(other.renewLease(wrong, LONG_TTL)).isFalse();
        assertThat(projection.renewLease(held, LONG_TTL)).isTrue();
        assertThat(projection.releaseLease(held)).isTrue();
        assertThat(projection.releaseLease(held)).isFalse();

        Lease next = other.tryAcquireLease(held.name(), LONG_TTL).orElseThrow();
        assertThat(next.token()).isNotEqualTo(held.token());
    }

    @Test
    void lease_expiredHolderCannotRenewOrReleaseItsSuccessor() {
        Lease stale = projection.tryAcquireLease("replayer", SHORT_TTL).orElseThrow();
        Projection other = client();
        elapse(SHORT_TTL.plusMillis(50));
        AtomicReference<Lease> successor = new AtomicReference<>();
        await().atMost(AWAIT).until(() -> {
            other.tryAcquireLease("replayer", LONG_TTL).ifPresent(successor::set);
            return successor.get() != null;
        });

        assertThat(projection.renewLease(stale, LONG_TTL)).isFalse();
        assertThat(projection.releaseLease(stale)).isFalse();
        assertThat(projection.advanceWatermark(stale, 10)).isEqualTo(WatermarkOutcome.FENCED);
        assertThat(projection.tryAcquireLease("replayer", LONG_TTL)).isEmpty();
        Lease taken = Objects.requireNonNull(successor.get(), "the await above saw it");
        assertThat(other.advanceWatermark(taken, 10)).isEqualTo(WatermarkOutcome.ADVANCED);
        assertThat(other.releaseLease(taken)).isTrue();
    }

    @Test
    void lease_concurrentAcquirersHaveOneWinner() throws Exception {
        int n = 8;
        List<Projection> clients = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            clients.add(i % 2 == 0 ? client() : projection);
        }
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<Optional<Lease>>> results = new ArrayList<>();
            for (Projection p : clients) {
                results.add(pool.submit(() -> {
                    start.await();
                    return p.tryAcquireLease("contended", LONG_TTL);
                }));
            }
            start.countDown();
            int winners = 0;
            for (Future<Optional<Lease>> f : results) {
                winners += f.get(30, TimeUnit.SECONDS).isPresent() ? 1 : 0;
            }
            assertThat(winners).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    // Passes null on purpose: the contract is that it is refused.
    @SuppressWarnings("NullAway")
    void lease_rejectsBadArguments() {
        assertThatThrownBy(() -> projection.tryAcquireLease("x", Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ttl");
        assertThatThrownBy(() -> projection.tryAcquireLease("bad name", LONG_TTL))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bad name");
        assertThatThrownBy(() -> projection.publish(null, "g", List.of())).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> projection.publish(allocate(projection, bucket(1)), "bad gen", List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bad gen");
    }

    // ---- races -----------------------------------------------------------------------------

    @Test
    void race_concurrentPublishersLeaveTheHighestVersionActive() throws Exception {
        int writers = 4;
        int rounds = 25;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        AtomicLong highest = new AtomicLong();
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                Projection p = client();
                done.add(pool.submit(() -> {
                    for (int r = 0; r < rounds; r++) {
                        VersionTicket t = allocate(p, bucket(1));
                        highest.accumulateAndGet(t.version(), Math::max);
                        p.publish(t, "g", versionCards(t.version()));
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        Snapshot s = hit(projection.readSnapshot(bucket(1)));
        assertThat(s.version()).isEqualTo(highest.get()).isEqualTo((long) writers * rounds);
        assertThat(s.cards()).isEqualTo(versionCards(s.version()));
    }

    @Test
    void race_readerNeverSeesAnEmptyOrMixedList() throws Exception {
        projection.publish(allocate(projection, bucket(1)), "g", versionCards(1));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong reads = new AtomicLong();
        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            Projection reader = client();
            Future<?> readLoop = pool.submit(() -> {
                while (!stop.get()) {
                    Lookup<Snapshot> l = reader.readSnapshot(bucket(1));
                    reads.incrementAndGet();
                    if (!(l instanceof Lookup.Hit<Snapshot> h)) {
                        violations.add("not a hit: " + l);
                        continue;
                    }
                    Snapshot s = h.found();
                    if (!s.cards().equals(versionCards(s.version()))) {
                        violations.add("version " + s.version() + " read cards " + ids(s.cards()));
                    }
                }
                return null;
            });
            List<Future<?>> writers = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                Projection p = client();
                writers.add(pool.submit(() -> {
                    for (int r = 0; r < 40; r++) {
                        VersionTicket t = allocate(p, bucket(1));
                        p.publish(t, "g", versionCards(t.version()));
                    }
                    return null;
                }));
            }
            for (Future<?> f : writers) {
                f.get(60, TimeUnit.SECONDS);
            }
            await().atMost(AWAIT).until(() -> reads.get() > 50);
            stop.set(true);
            readLoop.get(30, TimeUnit.SECONDS);
        } finally {
            stop.set(true);
            pool.shutdownNow();
        }
        assertThat(violations).isEmpty();
    }

    /** A non-empty card list that encodes its version, so a mixed list is detectable. */
    private static List<AccountCard> versionCards(long version) {
        return Fixtures.cards(version * 1000, 1 + (int) (version % 7));
    }

    private static List<Long> ids(List<AccountCard> cards) {
        return cards.stream().map(AccountCard::id).toList();
    }
}
