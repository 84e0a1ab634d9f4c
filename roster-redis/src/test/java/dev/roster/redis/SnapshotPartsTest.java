package dev.roster.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.PublishOutcome;
import dev.roster.core.projection.Snapshot;
import dev.roster.embedded.RespConnection;
import dev.roster.testkit.Fixtures;
import dev.roster.testkit.RedisHarness;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Large snapshots stored as an index of content-addressed parts (decisions NC1–NC5), on real Redis: a
 * refresh transfers what changed, equals a full read after any sequence of changes, is atomic under
 * concurrent publishes, refuses corrupt or foreign-format parts, and leaves no orphaned part behind.
 */
class SnapshotPartsTest {
    private static final RedisHarness REDIS = RedisHarness.shared();
    private static final Bucket B = Bucket.of(0, "anthropic", Mode.SINGLE);
    private static final Duration GRACE = Duration.ofMillis(600);
    private static final Pattern NET_OUT = Pattern.compile("total_net_output_bytes:(\\d+)");

    private String prefix;
    private RedisProjection writer;
    private RedisProjection reader;

    @BeforeEach
    void open() {
        prefix = REDIS.keyPrefix(SnapshotPartsTest.class);
        writer = connect();
        reader = connect();
    }

    @AfterEach
    void close() {
        writer.close();
        reader.close();
    }

    private RedisProjection connect() {
        return RedisProjection.connect(
                RedisConnectionOptions.of(REDIS.uri()).withCommandTimeout(Duration.ofSeconds(10)),
                TestRedis.RESOURCES,
                prefix,
                GRACE);
    }

    private long publish(List<AccountCard> cards) {
        var t = writer.allocateVersion(B).orElseThrow();
        assertThat(writer.publish(t, "gen", cards)).isEqualTo(PublishOutcome.ACTIVATED);
        return t.version();
    }

    private static Snapshot hit(Lookup<Snapshot> l) {
        assertThat(l).isInstanceOf(Lookup.Hit.class);
        return l.value().orElseThrow();
    }

    private static long netOutput() {
        Matcher m = NET_OUT.matcher((String) REDIS.command("INFO", "stats"));
        assertThat(m.find()).isTrue();
        return Long.parseLong(m.group(1));
    }

    /**
     * Bytes Redis sent between two {@link #netOutput} calls, minus the first call's own reply (which the
     * second one counts): measured once as the distance between two calls with nothing in between.
     */
    private static long sentBy(Runnable reads) {
        long a = netOutput();
        long b = netOutput();
        long infoReply = b - a;
        reads.run();
        long c = netOutput();
        return c - b - infoReply;
    }

    private static AccountCard changed(AccountCard c, int salt) {
        return c.toBuilder()
                .rateLimitResetAt(Fixtures.T0.plusSeconds(1000 + salt))
                .build();
    }

    // ---- what a change costs ---------------------------------------------------------------

    @Test
    void oneAccountChangeInA25000CardBucket_readsAtMostFivePercentOfTheSnapshot() {
        List<AccountCard> cards = new ArrayList<>(Fixtures.cards(1, 25_000));
        publish(cards);
        Snapshot[] held = new Snapshot[1];
        long full = sentBy(() -> held[0] = hit(reader.refreshSnapshot(B, null)));
        long counterFull = reader.snapshotBytesRead();

        cards.set(12_345, changed(cards.get(12_345), 1));
        publish(cards);
        Snapshot[] next = new Snapshot[1];
        long delta = sentBy(() -> next[0] = hit(reader.refreshSnapshot(B, held[0])));
        long counterDelta = reader.snapshotBytesRead() - counterFull;
        System.out.printf(
                "25,000-card bucket: full read %,d B out of Redis, one-account change %,d B (%.2f %%);"
                        + " decoded value bytes full %,d, change %,d%n",
                full, delta, 100.0 * delta / full, counterFull, counterDelta);
        assertThat(full).as("a full read moves the whole snapshot").isGreaterThan(2_000_000);
        assertThat(delta).as("bytes of a one-account change").isLessThanOrEqualTo(full * 5 / 100);
        assertThat(next[0].cards()).isEqualTo(cards);
        try (RedisProjection other = connect()) {
            assertThat(next[0].cards()).isEqualTo(hit(other.readSnapshot(B)).cards());
        }

        long unchanged =
                sentBy(() -> assertThat(hit(reader.refreshSnapshot(B, next[0]))).isSameAs(next[0]));
        System.out.printf("25,000-card bucket: a check that finds no change %,d B%n", unchanged);
        assertThat(unchanged).as("bytes of a check that finds no change").isLessThan(64);
    }

    // ---- equal to a full read --------------------------------------------------------------

    @Test
    void refreshEqualsFullRead_afterRandomSequencesOfChanges() {
        Random r = new Random(20261203);
        List<AccountCard> cards = new ArrayList<>(Fixtures.cards(1, 1_500));
        long nextId = 100_000;
        publish(cards);
        Snapshot held = hit(reader.refreshSnapshot(B, null));
        RedisProjection oracle = connect();
        try {
            for (int step = 0; step < 150; step++) {
                int changes = 1 + r.nextInt(3);
                for (int c = 0; c < changes; c++) {
                    int op = r.nextInt(10);
                    if (op < 4 && !cards.isEmpty()) { // a field changes in place
                        int i = r.nextInt(cards.size());
                        cards.set(i, changed(cards.get(i), step));
                    } else if (op < 6 && !cards.isEmpty()) { // an account leaves the bucket
                        cards.remove(r.nextInt(cards.size()));
                    } else if (op < 8) { // an account joins
                        cards.add(r.nextInt(cards.size() + 1), Fixtures.card(nextId++));
                    } else if (op < 9 && cards.size() > 1) { // an account moves (priority changed)
                        AccountCard moved = cards.remove(r.nextInt(cards.size()));
                        cards.add(
                                r.nextInt(cards.size() + 1),
                                moved.toBuilder().priority(step % 10).build());
                    } else { // a bulk change: a run of accounts leaves, or the bucket shrinks to inline size
                        int keep = r.nextBoolean() ? 200 + r.nextInt(100) : cards.size() * 3 / 4;
                        cards.subList(Math.min(keep, cards.size()), cards.size())
                                .clear();
                        if (cards.size() < 400) {
                            cards.addAll(Fixtures.cards(nextId, 800));
                            nextId += 800;
                        }
                    }
                }
                long v = publish(cards);
                if (r.nextInt(4) == 0) {
                    continue; // the reader misses this version: the next refresh spans several
                }
                Snapshot got = hit(reader.refreshSnapshot(B, held));
                Snapshot independent = hit(oracle.readSnapshot(B));
                assertThat(got.version()).as("step %d", step).isEqualTo(v);
                assertThat(got.cards())
                        .as("step %d against what was published", step)
                        .isEqualTo(cards);
                assertThat(got).as("step %d against a full read", step).isEqualTo(independent);
                held = got;
            }
        } finally {
            oracle.close();
        }
    }

    @Test
    void aHeldSnapshotTheProjectionDidNotProduce_isReadInFull() {
        List<AccountCard> cards = new ArrayList<>(Fixtures.cards(1, 1_000));
        long v = publish(cards);
        Snapshot read = hit(reader.refreshSnapshot(B, null));
        assertThat(hit(reader.refreshSnapshot(B, read))).isSameAs(read);
        Snapshot lookalike = new Snapshot(B, "gen", v, Fixtures.cards(5_000, 3));
        // Same (generation, version) but not what this projection read: no part or identity is trusted.
        assertThat(hit(reader.refreshSnapshot(B, lookalike)).cards()).isEqualTo(cards);
    }

    // ---- atomic activation -----------------------------------------------------------------

    private static List<AccountCard> versionCards(long version) {
        // 2,000 cards; each version stamps the accounts with id % 40 == version % 40, so consecutive
        // versions differ in about 50 scattered accounts (many parts) and any mix of two is visible.
        List<AccountCard> out = new ArrayList<>(2_000);
        for (long id = 1; id <= 2_000; id++) {
            AccountCard c = Fixtures.card(id);
            out.add(id % 40 == version % 40 ? c.toBuilder().name("v" + version).build() : c);
        }
        return out;
    }

    @Test
    void concurrentReader_neverSeesAMixOfTwoVersionsNorGoesBack() throws Exception {
        var t0 = writer.allocateVersion(B).orElseThrow();
        writer.publish(t0, "gen", versionCards(t0.version()));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong refreshes = new AtomicLong();
        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<?> readLoop = pool.submit(() -> {
                Snapshot held = null;
                while (!stop.get()) {
                    Lookup<Snapshot> l = reader.refreshSnapshot(B, held);
                    refreshes.incrementAndGet();
                    if (!(l instanceof Lookup.Hit<Snapshot> h)) {
                        violations.add("not a hit: " + l);
                        continue;
                    }
                    Snapshot s = h.found();
                    if (held != null && s.version() < held.version()) {
                        violations.add("went back from " + held.version() + " to " + s.version());
                    }
                    if (!s.cards().equals(versionCards(s.version()))) {
                        violations.add("version " + s.version() + " is a mix");
                    }
                    held = s;
                }
                return null;
            });
            Future<?> writeLoop = pool.submit(() -> {
                for (int i = 0; i < 60; i++) {
                    var t = writer.allocateVersion(B).orElseThrow();
                    writer.publish(t, "gen", versionCards(t.version()));
                }
                return null;
            });
            writeLoop.get(120, TimeUnit.SECONDS);
            long after = refreshes.get();
            await().atMost(Duration.ofSeconds(30)).until(() -> refreshes.get() > after + 2);
            stop.set(true);
            readLoop.get(30, TimeUnit.SECONDS);
        } finally {
            stop.set(true);
            pool.shutdownNow();
        }
        assertThat(violations).isEmpty();
        assertThat(refreshes.get()).isGreaterThan(3);
    }

    // ---- what a publish sends (decision NC7) ----------------------------------------------

    private static final Pattern NET_IN = Pattern.compile("total_net_input_bytes:(\\d+)");

    private static long netInput() {
        Matcher m = NET_IN.matcher((String) REDIS.command("INFO", "stats"));
        assertThat(m.find()).isTrue();
        return Long.parseLong(m.group(1));
    }

    /** Bytes Redis received while {@code writes} ran (the INFO calls' own requests are a few bytes). */
    private static long receivedBy(Runnable writes) {
        long a = netInput();
        writes.run();
        return netInput() - a;
    }

    @Test
    void aOneCardChange_sendsItsIndexAndChangedPartsOnly_andAGonePartIsSentAgain() {
        List<AccountCard> cards = new ArrayList<>(Fixtures.cards(1, 5_000));
        long full = receivedBy(() -> publish(cards));
        cards.set(2_500, changed(cards.get(2_500), 3));
        long change = receivedBy(() -> {
            long v = publish(cards);
            assertThat(v % RedisProjection.FULL_WRITE_EVERY).isNotZero();
        });
        System.out.printf(
                "5,000-card publish: %,d B into Redis, a one-card change %,d B (%.2f %%)%n",
                full, change, 100.0 * change / full);
        assertThat(change).as("bytes into Redis for a one-card change").isLessThan(full / 10);
        assertThat(hit(reader.readSnapshot(B)).cards()).isEqualTo(cards);

        // A part the writer stored before is gone: the script refuses the short form, every part goes again.
        List<String> parts = partKeys();
        REDIS.command("DEL", parts.get(parts.size() / 2));
        cards.set(10, changed(cards.get(10), 4));
        publish(cards);
        assertThat(hit(reader.readSnapshot(B)).cards()).isEqualTo(cards);
    }

    @Test
    void aPartDamagedInPlace_isWrittenAgainWithinFullWriteEveryVersions() {
        List<AccountCard> cards = new ArrayList<>(Fixtures.cards(1, 1_000));
        publish(cards);
        String damaged = partKeys().get(0);
        REDIS.command("SETRANGE", damaged, "10", "X");
        assertThat(reader.readSnapshot(B)).isInstanceOf(Lookup.Corrupt.class);
        boolean healed = false;
        for (int i = 0; i < RedisProjection.FULL_WRITE_EVERY && !healed; i++) {
            cards.set(999, changed(cards.get(999), 20 + i));
            publish(cards);
            healed = reader.readSnapshot(B) instanceof Lookup.Hit;
        }
        assertThat(healed)
                .as("healed within %d versions", RedisProjection.FULL_WRITE_EVERY)
                .isTrue();
        assertThat(hit(reader.readSnapshot(B)).cards()).isEqualTo(cards);
    }

    // ---- corrupt and foreign values --------------------------------------------------------

    private List<String> partKeys() {
        List<String> out = new ArrayList<>();
        try (RespConnection c = REDIS.connect()) {
            String cursor = "0";
            do {
                List<?> page = (List<?>)
                        c.command("SCAN", cursor, "MATCH", writer.keys().partPrefix(B) + "*", "COUNT", "1000");
                cursor = (String) page.get(0);
                for (Object k : (List<?>) page.get(1)) {
                    out.add((String) k);
                }
            } while (!cursor.equals("0"));
        }
        return out;
    }

    @Test
    void alteredOrMissingPart_isCorruptNamingThePartAndReadsAsMiss() {
        List<AccountCard> cards = new ArrayList<>(Fixtures.cards(1, 1_000));
        publish(cards);
        Snapshot held = hit(reader.refreshSnapshot(B, null));
        Set<String> before = new HashSet<>(partKeys());
        cards.set(500, changed(cards.get(500), 7));
        publish(cards);
        List<String> added = new ArrayList<>(partKeys());
        added.removeAll(before);
        assertThat(added).hasSize(1);
        String part = added.get(0);

        // The one part a refresh transfers is damaged: refused, naming it, never spliced in.
        REDIS.command("SETRANGE", part, "10", "X");
        Lookup<Snapshot> refreshed = reader.refreshSnapshot(B, held);
        assertThat(refreshed).isInstanceOfSatisfying(Lookup.Corrupt.class, c -> {
            assertThat(c.error().key()).isEqualTo(part);
            assertThat(c.error().reason()).contains("content hashes to");
        });
        assertThat(refreshed.value()).isEmpty();
        try (RedisProjection other = connect()) {
            assertThat(other.readSnapshot(B)).isInstanceOf(Lookup.Corrupt.class);
        }

        REDIS.command("DEL", part);
        assertThat(reader.refreshSnapshot(B, held)).isInstanceOfSatisfying(Lookup.Corrupt.class, c -> {
            assertThat(c.error().key()).isEqualTo(part);
            assertThat(c.error().reason()).contains("is missing");
        });
        try (RedisProjection other = connect()) {
            assertThat(other.readSnapshot(B)).isInstanceOfSatisfying(Lookup.Corrupt.class, c -> {
                assertThat(c.error().key()).isEqualTo(part);
                assertThat(c.error().reason()).contains("is missing");
            });
        }

        // The next publish writes every part again, so the bucket heals with its next version.
        cards.set(501, changed(cards.get(501), 8));
        publish(cards);
        assertThat(hit(reader.refreshSnapshot(B, held)).cards()).isEqualTo(cards);
    }

    @Test
    void indexOrPartOfAnotherFormatVersion_isRefusedNotMisread() {
        publish(Fixtures.cards(1, 1_000));
        String index = writer.keys().snapshot(B);
        REDIS.command("SETRANGE", index, "2", "\u0009");
        assertThat(reader.readSnapshot(B))
                .isInstanceOfSatisfying(
                        Lookup.Corrupt.class,
                        c -> assertThat(c.error().reason())
                                .isEqualTo("format version 9, this reader understands "
                                        + ProjectionCodec.SNAPSHOT_FORMAT));

        publish(Fixtures.cards(1, 1_000));
        String part = partKeys().get(0);
        REDIS.command("SETRANGE", part, "2", "\u0001");
        assertThat(reader.refreshSnapshot(B, null)).isInstanceOfSatisfying(Lookup.Corrupt.class, c -> {
            assertThat(c.error().key()).isEqualTo(part);
            assertThat(c.error().reason())
                    .isEqualTo("format version 1, this reader understands " + ProjectionCodec.SNAPSHOT_FORMAT);
        });

        // A whole snapshot written by the previous format (inline, format 1, no kind byte).
        Bucket small = Bucket.of(5, "anthropic", Mode.SINGLE);
        REDIS.command("SET", writer.keys().snapshot(small), "RS\u0001\u00125:anthropic:single\u0003gen\u0001\u0000");
        assertThat(reader.readSnapshot(small))
                .isInstanceOfSatisfying(
                        Lookup.Corrupt.class,
                        c -> assertThat(c.error().reason())
                                .isEqualTo("format version 1, this reader understands "
                                        + ProjectionCodec.SNAPSHOT_FORMAT));
    }

    // ---- no unbounded growth ---------------------------------------------------------------

    private Set<String> activePartKeys() {
        Snapshot s;
        try (RedisProjection other = connect()) {
            s = hit(other.readSnapshot(B));
        }
        int[] ends = SnapshotParts.ends(s.cards());
        Set<String> out = new HashSet<>();
        ProjectionCodec.Stored stored = ProjectionCodec.encodeStored(s);
        for (String id : stored.partIds()) {
            out.add(writer.keys().part(B, id));
        }
        assertThat(out).hasSize(ends.length);
        return out;
    }

    private long pttl(String key) {
        return (Long) REDIS.command("PTTL", key);
    }

    @Test
    void partsOrphanedByANewerVersionOrARetire_areDeletedAfterTheGracePeriod() {
        Random r = new Random(7);
        List<AccountCard> cards = new ArrayList<>(Fixtures.cards(1, 2_000));
        List<AccountCard> original = List.copyOf(cards);
        publish(cards);
        Set<String> v1 = activePartKeys();
        cards.set(1_000, changed(cards.get(1_000), 1));
        publish(cards);
        Set<String> v2 = activePartKeys();
        Set<String> orphaned = new HashSet<>(v1);
        orphaned.removeAll(v2);
        assertThat(orphaned).as("a one-account change orphans one or two parts").hasSizeBetween(1, 2);
        for (String k : orphaned) {
            assertThat(pttl(k)).as("orphan " + k).isPositive().isLessThanOrEqualTo(GRACE.toMillis());
        }
        for (String k : v2) {
            assertThat(pttl(k)).as("live part " + k).isEqualTo(-1L);
        }

        // Back to the first content: its part is named again and must lose its expiry.
        publish(original);
        for (String k : v1) {
            assertThat(pttl(k)).as("re-used part " + k).isEqualTo(-1L);
        }

        for (int i = 0; i < 30; i++) {
            int at = r.nextInt(cards.size());
            if (r.nextBoolean()) {
                cards.set(at, changed(cards.get(at), 100 + i));
            } else {
                cards.remove(at);
            }
            publish(cards);
        }
        Set<String> live = activePartKeys();
        await().atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(new HashSet<>(partKeys())).isEqualTo(live));

        writer.retire(B);
        for (String k : live) {
            assertThat(pttl(k)).as("part of the retired snapshot " + k).isPositive();
        }
        await().atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(partKeys()).isEmpty());
    }

    @Test
    void smallBuckets_stayOneInlineValueWithNoParts() {
        publish(Fixtures.cards(1, SnapshotParts.INLINE_MAX_CARDS));
        assertThat(partKeys()).isEmpty();
        assertThat(hit(reader.refreshSnapshot(B, null)).cards()).hasSize(SnapshotParts.INLINE_MAX_CARDS);
        publish(Fixtures.cards(1, SnapshotParts.INLINE_MAX_CARDS + 1));
        assertThat(partKeys()).isNotEmpty();
        publish(Fixtures.cards(1, 3));
        assertThat(hit(reader.readSnapshot(B)).cards()).isEqualTo(Fixtures.cards(1, 3));
    }
}
