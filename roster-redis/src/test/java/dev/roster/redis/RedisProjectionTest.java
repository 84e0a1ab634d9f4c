package dev.roster.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.projection.CorruptValueException;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.ProjectionUnavailableException;
import dev.roster.core.projection.PublishOutcome;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.projection.VersionTicket;
import dev.roster.embedded.RespConnection;
import dev.roster.testkit.Fixtures;
import dev.roster.testkit.RedisHarness;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Redis-specific behaviour: corrupt values, secrets, key layout, script reloads and outages. */
class RedisProjectionTest {
    private static final RedisHarness REDIS = RedisHarness.shared();
    private static final Bucket B = Bucket.of(3, "openai", Mode.SINGLE);

    private String prefix;
    private RedisProjection projection;

    /**
     * The class's short timeout also bounds each connection's handshake; the first connection of the
     * JVM loads and initialises Lettuce and Netty within it, which a loaded machine does not always
     * finish in 500 ms. Warm them once with a generous timeout, so the tests time what they mean to.
     */
    @BeforeAll
    static void warmUp() {
        RedisProjection.connect(
                        RedisConnectionOptions.of(REDIS.uri()).withCommandTimeout(Duration.ofSeconds(30)),
                        TestRedis.RESOURCES,
                        REDIS.keyPrefix(RedisProjectionTest.class),
                        Duration.ofSeconds(60))
                .close();
    }

    @BeforeEach
    void open() {
        prefix = REDIS.keyPrefix(RedisProjectionTest.class);
        projection = RedisProjection.connect(
                RedisConnectionOptions.of(REDIS.uri()).withCommandTimeout(Duration.ofMillis(500)),
                TestRedis.RESOURCES,
                prefix,
                Duration.ofSeconds(60));
    }

    @AfterEach
    void close() {
        REDIS.heal();
        REDIS.resume();
        projection.close();
    }

    private void publish(Bucket b, List<AccountCard> cards) {
        assertThat(projection.publish(projection.allocateVersion(b).orElseThrow(), "gen", cards))
                .isEqualTo(PublishOutcome.ACTIVATED);
    }

    // ---- connections -----------------------------------------------------------------------

    /**
     * Decision E17: a pipeline of many commands runs on a second connection, so small commands never
     * queue behind it; small ones stay on the first. Told apart by the server's own client list: the
     * connections that appear, and the last command each ran.
     */
    @Test
    void largePipelines_runOnASecondConnection_smallCommandsOnTheFirst() {
        publish(B, Fixtures.cards(1, 2));
        Map<String, String> before = clients();
        Map<VersionTicket, List<AccountCard>> many = new LinkedHashMap<>();
        List<Bucket> buckets = new ArrayList<>();
        for (long g = 100; g < 140; g++) {
            buckets.add(Bucket.of(g, "openai", Mode.SINGLE));
        }
        projection.allocateVersions(buckets).forEach((b, t) -> many.put(t.orElseThrow(), Fixtures.cards(g(b), 3)));
        assertThat(projection.publishAll("gen", many).values()).containsOnly(PublishOutcome.ACTIVATED);
        Map<String, String> after = clients();
        after.keySet().removeAll(before.keySet());
        assertThat(after).as("connections opened by the large pipelines").hasSize(1);
        assertThat(after.values()).containsExactly("evalsha");

        String second = after.keySet().iterator().next();
        projection.putCards(Fixtures.cards(1, 1));
        Map<String, String> last = clients();
        assertThat(last.get(second))
                .as("a small command does not use the second connection")
                .isEqualTo("evalsha");
        assertThat(last.values()).as("it ran on the first").contains("mset");
    }

    private static long g(Bucket b) {
        return b.groupId() * 10;
    }

    /** The server's clients: id to the last command each ran. */
    private static Map<String, String> clients() {
        Map<String, String> out = new LinkedHashMap<>();
        try (RespConnection c = REDIS.connect()) {
            for (String line : String.valueOf(c.command("CLIENT", "LIST")).split("\n", -1)) {
                String id = null;
                String cmd = null;
                for (String field : line.trim().split(" ", -1)) {
                    if (field.startsWith("id=")) {
                        id = field.substring(3);
                    } else if (field.startsWith("cmd=")) {
                        cmd = field.substring(4);
                    }
                }
                if (id != null && cmd != null && !cmd.startsWith("client")) {
                    out.put(id, cmd);
                }
            }
        }
        return out;
    }

    // ---- corrupt values --------------------------------------------------------------------

    @Test
    void lostVersionCounter_doesNotFreezeTheBucket() {
        // Found by the fault suite: the counter key deleted (an operator repairing it, an eviction)
        // while the active snapshot stays; a restarted counter must not hand out versions the active
        // snapshot already beats, or every later publish is "superseded" and the bucket is frozen.
        publish(B, Fixtures.cards(1, 1));
        publish(B, Fixtures.cards(1, 2));
        publish(B, Fixtures.cards(1, 3));
        REDIS.command("DEL", projection.keys().counter(B));

        publish(B, Fixtures.cards(5, 1));
        assertThat(projection.readSnapshot(B).value().orElseThrow().cards())
                .extracting(AccountCard::id)
                .containsExactly(5L);
    }

    @Test
    void aTicketFromBeforeTheStoreLostItsData_isFencedNotActivatedOverNewerPublishes() {
        // Found by NearCacheTest: a publisher allocates, the store is flushed, the counter counts again
        // from 1, and the old ticket's higher version would activate and stay active over every newer
        // publish (they are all "superseded" until the counter passes it).
        for (int i = 0; i < 5; i++) {
            publish(B, Fixtures.cards(1, 1));
        }
        VersionTicket before = projection.allocateVersion(B).orElseThrow();
        for (String key : List.of(
                projection.keys().counter(B),
                projection.keys().epoch(B),
                projection.keys().activeVersion(B),
                projection.keys().snapshot(B))) {
            REDIS.command("DEL", key);
        }
        publish(B, Fixtures.cards(2, 1));

        assertThat(projection.publish(before, "gen", Fixtures.cards(3, 1))).isEqualTo(PublishOutcome.FENCED);
        assertThat(projection.readSnapshot(B).value().orElseThrow().cards())
                .extracting(AccountCard::id)
                .containsExactly(2L);
    }

    @Test
    void corruptSnapshot_isReportedForItsKeyAndReadsAsMiss() {
        String key = projection.keys().snapshot(B);
        REDIS.command("SET", key, "{\"not\":\"a snapshot\"}");

        Lookup<Snapshot> read = projection.readSnapshot(B);
        assertThat(read).isInstanceOfSatisfying(Lookup.Corrupt.class, c -> {
            assertThat(c.error().key()).isEqualTo(key);
            assertThat(c.error().reason()).contains("bad magic");
        });
        assertThat(read.value()).isEmpty();
    }

    @Test
    void snapshotOfAnotherFormatVersion_isRefusedNotMisread() {
        publish(B, Fixtures.cards(1, 3));
        String key = projection.keys().snapshot(B);
        REDIS.command("SETRANGE", key, "2", "\u0009");

        assertThat(projection.readSnapshot(B))
                .isInstanceOfSatisfying(
                        Lookup.Corrupt.class,
                        c -> assertThat(c.error().reason())
                                .isEqualTo("format version 9, this reader understands "
                                        + ProjectionCodec.SNAPSHOT_FORMAT));
    }

    @Test
    void truncatedSnapshot_andWrongTypeKey_areCorrupt() {
        publish(B, Fixtures.cards(1, 3));
        String key = projection.keys().snapshot(B);
        REDIS.command("SETRANGE", key, "0", "RS\u0001");
        String full = (String) REDIS.command("GETRANGE", key, "0", "40");
        REDIS.command("SET", key, full);
        assertThat(projection.readSnapshot(B)).isInstanceOf(Lookup.Corrupt.class);

        Bucket other = Bucket.of(4, "openai", Mode.SINGLE);
        REDIS.command("HSET", projection.keys().snapshot(other), "f", "v");
        assertThat(projection.readSnapshot(other))
                .isInstanceOfSatisfying(
                        Lookup.Corrupt.class,
                        c -> assertThat(c.error().reason()).contains("WRONGTYPE"));
    }

    @Test
    void snapshotCopiedUnderAnotherBucketsKey_isCorrupt() {
        publish(B, Fixtures.cards(1, 2));
        Bucket other = Bucket.of(5, "openai", Mode.SINGLE);
        try (RespConnection c = REDIS.connect()) {
            // COPY keeps the bytes exact; a text round trip would not.
            c.command("COPY", projection.keys().snapshot(B), projection.keys().snapshot(other));
        }
        assertThat(projection.readSnapshot(other))
                .isInstanceOfSatisfying(
                        Lookup.Corrupt.class,
                        c -> assertThat(c.error().reason()).contains("holds the snapshot of bucket '3:openai:single'"));
    }

    @Test
    void corruptCard_isReportedForItsKeyAndOtherCardsStillRead() {
        projection.putCards(Fixtures.cards(1, 3));
        String key = projection.keys().card(2);
        REDIS.command("SET", key, "garbage");

        assertThat(projection.card(2))
                .isInstanceOfSatisfying(
                        Lookup.Corrupt.class, c -> assertThat(c.error().key()).isEqualTo(key));
        Map<Long, Lookup<AccountCard>> all = projection.cards(List.of(1L, 2L, 3L));
        assertThat(all.get(1L)).isEqualTo(Lookup.hit(Fixtures.card(1)));
        assertThat(all.get(2L)).isInstanceOf(Lookup.Corrupt.class);
        assertThat(all.get(3L)).isEqualTo(Lookup.hit(Fixtures.card(3)));
    }

    @Test
    void corruptState_isReportedNotThrown() {
        REDIS.command("SET", projection.keys().watermark(), "12abc");
        REDIS.command("SET", projection.keys().generation(), "2|abc|def");
        REDIS.command("SADD", projection.keys().registry(), "not-a-bucket", "1:openai:single");

        assertThat(projection.watermark()).isInstanceOf(Lookup.Corrupt.class);
        assertThat(projection.generation())
                .isInstanceOfSatisfying(
                        Lookup.Corrupt.class,
                        c -> assertThat(c.error().reason()).contains("format version 2"));
        assertThat(projection.buckets()).containsExactly(Bucket.of(1, "openai", Mode.SINGLE));
    }

    @Test
    void singleValueKeys_readAsMissWhenAbsentAndCorruptNamingWhatIsWrong() {
        assertThat(projection.watermark()).isEqualTo(Lookup.miss());
        assertThat(projection.replayCursor()).isEqualTo(Lookup.miss());
        assertThat(projection.generation()).isEqualTo(Lookup.miss());

        REDIS.command("SET", projection.keys().watermark(), "-5");
        assertThat(reason(projection.watermark())).contains("negative watermark -5");
        REDIS.command("SET", projection.keys().watermark(), "12abc");
        assertThat(reason(projection.watermark())).contains("not a decimal number: '12abc'");
        REDIS.command("SET", projection.keys().watermark(), "42");
        assertThat(projection.watermark()).isEqualTo(Lookup.hit(42L));

        REDIS.command("SET", projection.keys().replayCursor(), "garbage");
        assertThat(reason(projection.replayCursor()))
                .contains("not a replay cursor")
                .contains("'garbage'");
        REDIS.command("SET", projection.keys().generation(), "1|only-two");
        assertThat(reason(projection.generation())).contains("not a generation value");

        REDIS.command("DEL", projection.keys().watermark());
        REDIS.command("HSET", projection.keys().watermark(), "f", "v");
        assertThat(projection.watermark()).as("another Redis type").isInstanceOf(Lookup.Corrupt.class);
        REDIS.command("DEL", projection.keys().watermark());
    }

    private static String reason(Lookup<?> lookup) {
        assertThat(lookup).isInstanceOf(Lookup.Corrupt.class);
        return ((Lookup.Corrupt<?>) lookup).error().reason();
    }

    // ---- secrets ---------------------------------------------------------------------------

    /**
     * The projection's own part only: the fixture makes cards without the secret, as a mapper would.
     * That the production mapper drops credentials from a real row is {@code CredentialLeakTest}'s
     * (roster-it, real PostgreSQL and Redis).
     */
    @Test
    void fullPublish_leavesNoCredentialAnywhereInRedis() {
        String secret = "sk-ant-SECRET-" + Long.toHexString(System.nanoTime());
        List<Fixtures.AccountRow> rows = new ArrayList<>();
        for (long id = 1; id <= 20; id++) {
            rows.add(Fixtures.rowWithSecret(id, secret));
        }
        List<AccountCard> cards = rows.stream().map(Fixtures.AccountRow::toCard).toList();
        projection.putCards(cards);
        publish(B, cards);
        projection.markUsed(Map.of(1L, Instant.now()));
        projection.putGeneration(Generation.random("fp"));

        String everything = dumpEveryKeyAndValue();
        // The scan must really see values: the model mapping keys are on the cards.
        assertThat(everything).contains("claude-sonnet-4").contains(prefix);
        assertThat(everything).doesNotContain(secret);
        assertThat(everything).doesNotContain("claude-sonnet-4-20250514");
    }

    private String dumpEveryKeyAndValue() {
        StringBuilder sb = new StringBuilder();
        try (RespConnection c = REDIS.connect()) {
            String cursor = "0";
            do {
                List<?> page = (List<?>) c.command("SCAN", cursor, "COUNT", "1000");
                cursor = (String) page.get(0);
                for (Object k : (List<?>) page.get(1)) {
                    String key = (String) k;
                    sb.append(key).append('=');
                    switch ((String) c.command("TYPE", key)) {
                        case "string" -> sb.append(c.command("GET", key));
                        case "set" -> sb.append(c.command("SMEMBERS", key));
                        case "hash" -> sb.append(c.command("HGETALL", key));
                        case "list" -> sb.append(c.command("LRANGE", key, "0", "-1"));
                        case "zset" -> sb.append(c.command("ZRANGE", key, "0", "-1"));
                        default -> sb.append("?");
                    }
                    sb.append('\n');
                }
            } while (!"0".equals(cursor));
        }
        return sb.toString();
    }

    // ---- layout, TTLs and scripts ----------------------------------------------------------

    @Test
    void keys_carryPrefixAndTag_andOnlySupersededVersionsAndLeasesExpire() {
        publish(B, Fixtures.cards(1, 2));
        publish(B, Fixtures.cards(1, 3));
        assertThat(projection.tryAcquireLease("rebuild:x", Duration.ofSeconds(10)))
                .isPresent();

        assertThat(projection.keys().snapshot(B)).isEqualTo(prefix + "{3:openai:single}:snap");
        assertThat(projection.keys().card(42)).isEqualTo(prefix + "{42}:card");
        long supersededTtl = (Long) REDIS.command("PTTL", projection.keys().snapshot(B, 1));
        assertThat(supersededTtl).isBetween(1L, 60_000L);
        assertThat((Long) REDIS.command("PTTL", projection.keys().lease("rebuild:x")))
                .isBetween(1L, 10_000L);
        assertThat((Long) REDIS.command("PTTL", projection.keys().snapshot(B))).isEqualTo(-1L);
    }

    @Test
    void scriptFlush_isSurvivedByReloading() {
        publish(B, Fixtures.cards(1, 1));
        REDIS.command("SCRIPT", "FLUSH");
        publish(B, Fixtures.cards(1, 2));
        projection.putCards(Fixtures.cards(1, 2));
        REDIS.command("SCRIPT", "FLUSH");
        projection.markUsed(Map.of(1L, Instant.ofEpochMilli(5)));
        assertThat(projection.lastUsed(List.of(1L))).containsEntry(1L, Instant.ofEpochMilli(5));
        assertThat(projection.readSnapshot(B).value())
                .hasValueSatisfying(s -> assertThat(s.cards()).hasSize(2));
    }

    @Test
    void invalidArguments_areRejectedBeforeAnythingIsWritten() {
        assertThatThrownBy(() -> RedisProjection.over(null, "p:", Duration.ofSeconds(1)))
                .isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new RedisKeys("has{brace}")).hasMessageContaining("has{brace}");
        assertThatThrownBy(() -> RedisConnectionOptions.of("redis://h:1").withRequestQueueSize(0))
                .hasMessageContaining("requestQueueSize");
    }

    // ---- batch forms -----------------------------------------------------------------------

    @Test
    void withoutActiveSnapshot_countsEveryUnreadableValueAsWithout() {
        Bucket garbage = Bucket.of(11, "openai", Mode.SINGLE);
        Bucket otherFormat = Bucket.of(12, "openai", Mode.SINGLE);
        Bucket wrongType = Bucket.of(13, "openai", Mode.SINGLE);
        Bucket copied = Bucket.of(14, "openai", Mode.SINGLE);
        Bucket good = Bucket.of(15, "openai", Mode.SINGLE);
        publish(otherFormat, Fixtures.cards(1, 2));
        publish(good, Fixtures.cards(1, 2));
        REDIS.command("SET", projection.keys().snapshot(garbage), "{\"not\":\"a snapshot\"}");
        REDIS.command("SETRANGE", projection.keys().snapshot(otherFormat), "2", "\u0009");
        REDIS.command("HSET", projection.keys().snapshot(wrongType), "f", "v");
        REDIS.command(
                "COPY", projection.keys().snapshot(good), projection.keys().snapshot(copied));
        List<Bucket> asked = List.of(garbage, otherFormat, wrongType, copied, good);

        assertThat(projection.withoutActiveSnapshot(asked))
                .containsExactlyInAnyOrder(garbage, otherFormat, wrongType, copied);
        for (Bucket b : asked) {
            // The same verdict as a full read, which decodes every card.
            assertThat(projection.readSnapshot(b).isHit()).as(b.text()).isEqualTo(b.equals(good));
        }
    }

    @Test
    void publishAll_wrongTypeKeyFailsTheCallAsCorrupt() {
        Bucket wrongType = Bucket.of(16, "openai", Mode.SINGLE);
        Map<VersionTicket, List<AccountCard>> contents = new LinkedHashMap<>();
        contents.put(projection.allocateVersion(B).orElseThrow(), Fixtures.cards(1, 1));
        contents.put(projection.allocateVersion(wrongType).orElseThrow(), Fixtures.cards(2, 1));
        REDIS.command(
                "DEL",
                projection.keys().activeVersion(wrongType),
                projection.keys().epoch(wrongType));
        REDIS.command("HSET", projection.keys().epoch(wrongType), "f", "v");

        assertThatThrownBy(() -> projection.publishAll("gen", contents))
                .isInstanceOf(CorruptValueException.class)
                .hasMessageContaining(projection.keys().snapshot(wrongType));
    }

    @Test
    void batchForms_surviveAScriptFlush() {
        REDIS.command("SCRIPT", "FLUSH");
        Map<Bucket, Optional<VersionTicket>> tickets =
                projection.allocateVersions(List.of(B, Bucket.of(17, "openai", Mode.SINGLE)));
        REDIS.command("SCRIPT", "FLUSH");
        Map<VersionTicket, List<AccountCard>> contents = new LinkedHashMap<>();
        tickets.values().forEach(t -> contents.put(t.orElseThrow(), Fixtures.cards(1, 2)));
        assertThat(projection.publishAll("gen", contents))
                .containsValues(PublishOutcome.ACTIVATED, PublishOutcome.ACTIVATED);
        assertThat(projection.withoutActiveSnapshot(tickets.keySet())).isEmpty();
    }

    @Test
    void publishAll_rejectsBadArgumentsBeforeAnythingIsWritten() {
        VersionTicket t1 = projection.allocateVersion(B).orElseThrow();
        VersionTicket t2 = projection.allocateVersion(B).orElseThrow();
        Bucket other = Bucket.of(18, "openai", Mode.SINGLE);
        VersionTicket t3 = projection.allocateVersion(other).orElseThrow();
        Map<VersionTicket, List<AccountCard>> twice = new LinkedHashMap<>();
        twice.put(t3, Fixtures.cards(1, 1));
        twice.put(t1, Fixtures.cards(1, 1));
        twice.put(t2, Fixtures.cards(2, 1));
        assertThatThrownBy(() -> projection.publishAll("gen", twice))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("one ticket per bucket")
                .hasMessageContaining(B.text());
        assertThatThrownBy(() -> projection.publishAll("bad gen", Map.of(t3, List.of())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bad gen");
        List<Bucket> withNull = new ArrayList<>(List.of(B));
        withNull.add(null);
        assertThatThrownBy(() -> projection.allocateVersions(withNull)).isInstanceOf(NullPointerException.class);
        assertThat(projection.readSnapshot(other)).isEqualTo(Lookup.miss());
        assertThat(projection.readSnapshot(B)).isEqualTo(Lookup.miss());
    }

    // ---- outages ---------------------------------------------------------------------------

    @Test
    void partition_makesReadsFailAsUnavailable_andHealRecovers() {
        publish(B, Fixtures.cards(1, 2));
        REDIS.partition();
        assertThatThrownBy(() -> projection.readSnapshot(B))
                .isInstanceOf(ProjectionUnavailableException.class)
                .hasMessageContaining(projection.keys().snapshot(B));
        REDIS.heal();
        await().atMost(Duration.ofSeconds(30))
                .ignoreException(ProjectionUnavailableException.class)
                .until(() -> projection.readSnapshot(B).isHit());
    }

    @Test
    void partition_failsEveryBatchFormAsUnavailable() {
        Map<Bucket, Optional<VersionTicket>> tickets = projection.allocateVersions(List.of(B));
        REDIS.partition();
        assertThatThrownBy(() -> projection.allocateVersions(List.of(B)))
                .isInstanceOf(ProjectionUnavailableException.class)
                .hasMessageContaining(projection.keys().retired(B));
        assertThatThrownBy(
                        () -> projection.publishAll("gen", Map.of(tickets.get(B).orElseThrow(), List.of())))
                .isInstanceOf(ProjectionUnavailableException.class)
                .hasMessageContaining(projection.keys().snapshot(B));
        assertThatThrownBy(() -> projection.withoutActiveSnapshot(List.of(B)))
                .isInstanceOf(ProjectionUnavailableException.class)
                .hasMessageContaining(projection.keys().snapshot(B));
        REDIS.heal();
        await().atMost(Duration.ofSeconds(30))
                .ignoreException(ProjectionUnavailableException.class)
                .until(() -> projection
                                .publishAll("gen", Map.of(tickets.get(B).orElseThrow(), List.of()))
                                .get(B)
                        == PublishOutcome.ACTIVATED);
    }

    @Test
    void pausedServer_timesOutTheBatchFormsAsUnavailable() {
        REDIS.pause();
        assertThatThrownBy(() -> projection.withoutActiveSnapshot(List.of(B, Bucket.of(19, "openai", Mode.SINGLE))))
                .isInstanceOf(ProjectionUnavailableException.class)
                .hasMessageContaining("timed out");
        REDIS.resume();
    }

    @Test
    void pausedServer_timesOutAsUnavailable() {
        publish(B, Fixtures.cards(1, 2));
        REDIS.pause();
        assertThatThrownBy(() -> projection.readSnapshot(B))
                .isInstanceOf(ProjectionUnavailableException.class)
                .hasMessageContaining("timed out");
        REDIS.resume();
        await().atMost(Duration.ofSeconds(30))
                .ignoreException(ProjectionUnavailableException.class)
                .until(() -> projection.readSnapshot(B).isHit());
    }
}
