package dev.roster.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.core.outbox.OutboxCursor;
import dev.roster.core.outbox.OutboxEvent;
import dev.roster.core.outbox.OutboxEvent.AccountChanged;
import dev.roster.core.outbox.OutboxEvent.AccountGroupsChanged;
import dev.roster.core.outbox.OutboxEvent.AccountLastUsed;
import dev.roster.core.outbox.OutboxEvent.FullRebuild;
import dev.roster.core.outbox.OutboxEvent.Malformed;
import dev.roster.core.outbox.OutboxEvent.Unknown;
import dev.roster.core.outbox.OutboxStats;
import dev.roster.core.outbox.RetentionResult;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The outbox reader: ordering by horizon, late commits, bounded applied set, stats, retention, decoding. */
class OutboxReaderTest {
    static PgFixture pg;
    static PostgresOutbox outbox;

    @BeforeAll
    static void setUp() {
        pg = PgFixture.migrated("outbox_reader");
        outbox = new PostgresOutbox(pg.ds);
    }

    @AfterAll
    static void tearDown() {
        pg.close();
    }

    /** Reads and acknowledges until a read comes back empty; returns what was read. */
    static List<OutboxEvent> drain(OutboxCursor cursor) {
        List<OutboxEvent> out = new ArrayList<>();
        while (true) {
            OutboxCursor.Batch b = cursor.next();
            out.addAll(b.events());
            cursor.acknowledge(b);
            if (b.isEmpty()) {
                return out;
            }
        }
    }

    static List<Long> ids(List<OutboxEvent> events) {
        return events.stream().map(OutboxEvent::id).toList();
    }

    @Test
    void lateCommit_doesNotHoldBackOthers_andIsDeliveredAfterItCommits() throws Exception {
        long a = pg.account("late-a", "openai");
        long b = pg.account("late-b", "openai");
        OutboxCursor cursor = new OutboxCursor(outbox, 0, 10_000, 50);
        drain(cursor);

        try (Connection t1 = pg.bare()) {
            t1.setAutoCommit(false);
            long t1Event;
            try (Statement st = t1.createStatement()) {
                st.execute("UPDATE accounts SET priority = 1 WHERE id = " + a);
                ResultSet rs = st.executeQuery("SELECT max(id) FROM scheduler_outbox");
                rs.next();
                t1Event = rs.getLong(1);
            }
            pg.sql("UPDATE accounts SET priority = 2 WHERE id = " + b);

            List<OutboxEvent> first = drain(cursor);
            assertThat(first).singleElement().isInstanceOfSatisfying(AccountChanged.class, e -> {
                assertThat(e.accountId()).isEqualTo(b);
                assertThat(e.id()).isGreaterThan(t1Event);
            });

            t1.commit();
            List<OutboxEvent> second = drain(cursor);
            assertThat(second).singleElement().isInstanceOfSatisfying(AccountChanged.class, e -> {
                assertThat(e.accountId()).isEqualTo(a);
                assertThat(e.id()).isEqualTo(t1Event);
            });
        }
        assertThat(drain(cursor)).isEmpty();
    }

    @Test
    void manyConcurrentWritersWithRandomCommitDelays_noSkipNoDuplicate_restartRereadsOnlyAboveWatermark()
            throws Exception {
        // Reader 1 skips what earlier tests wrote, then runs while the writers write; it "crashes"
        // after persisting its watermark.
        OutboxCursor r1 = new OutboxCursor(outbox, 0, 100_000, 7);
        drain(r1);
        int writers = 6;
        int txPerWriter = 30;
        Set<Long> committed = ConcurrentHashMap.newKeySet();
        Set<Long> rolledBack = ConcurrentHashMap.newKeySet();
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int w = 0; w < writers; w++) {
            long seed = 20_240_601L + w;
            threads.add(Thread.ofPlatform().name("writer-" + w).start(() -> {
                java.util.Random rnd = new java.util.Random(seed);
                try (Connection c = pg.bare()) {
                    c.setAutoCommit(false);
                    for (int t = 0; t < txPerWriter; t++) {
                        List<Long> mine = new ArrayList<>();
                        try (Statement st = c.createStatement()) {
                            int n = 1 + rnd.nextInt(3);
                            for (int k = 0; k < n; k++) {
                                ResultSet rs = st.executeQuery(
                                        "INSERT INTO scheduler_outbox (event_type) VALUES ('load_test') RETURNING id");
                                rs.next();
                                mine.add(rs.getLong(1));
                                // Commit delays in the server keep the transaction open without
                                // sleeping in the test.
                                st.execute("SELECT pg_sleep(" + rnd.nextInt(25) / 1000.0 + ")");
                            }
                        }
                        if (rnd.nextInt(10) == 0) {
                            c.rollback();
                            rolledBack.addAll(mine);
                        } else {
                            c.commit();
                            committed.addAll(mine);
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }

        StateRepository state = new StateRepository(pg.ds);
        Map<Long, Long> seen1 = new HashMap<>();
        int polls = 0;
        while (threads.stream().anyMatch(Thread::isAlive) && polls < 40) {
            OutboxCursor.Batch b = r1.next();
            for (OutboxEvent e : b.events()) {
                assertThat(seen1.put(e.id(), e.txid()))
                        .as("reader 1 returned %s twice", e.id())
                        .isNull();
            }
            r1.acknowledge(b);
            if (!b.isEmpty()) {
                polls++;
            }
        }
        long persisted = state.advanceWatermark(r1.watermark());

        // Reader 2 starts from the persisted watermark and runs until every committed event is seen.
        OutboxCursor r2 = new OutboxCursor(outbox, persisted, 100_000, 7);
        Map<Long, Long> seen2 = new HashMap<>();
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(5))
                .conditionEvaluationListener(cond -> {
                    if (cond.getRemainingTimeInMS() < 50) {
                        Set<Long> missing = new java.util.TreeSet<>(committed);
                        missing.removeAll(union(seen1, seen2));
                        System.out.println("missing=" + missing + " alive="
                                + threads.stream()
                                        .filter(Thread::isAlive)
                                        .map(t -> t.getName() + java.util.Arrays.toString(t.getStackTrace()))
                                        .toList()
                                + " r1wm=" + persisted + " r2wm=" + r2.watermark() + " stats=" + r2.stats());
                    }
                })
                .until(() -> {
                    OutboxCursor.Batch b = r2.next();
                    for (OutboxEvent e : b.events()) {
                        assertThat(seen2.put(e.id(), e.txid()))
                                .as("reader 2 returned %s twice", e.id())
                                .isNull();
                    }
                    r2.acknowledge(b);
                    return threads.stream().noneMatch(Thread::isAlive)
                            && b.isEmpty()
                            && union(seen1, seen2).containsAll(committed);
                });
        for (Thread t : threads) {
            t.join();
        }
        assertThat(failures).isEmpty();
        assertThat(committed).hasSizeGreaterThan(writers * txPerWriter / 2);
        Set<Long> all = union(seen1, seen2);
        assertThat(all).as("no committed event skipped").containsAll(committed);
        assertThat(all).as("no rolled-back event").doesNotContainAnyElementsOf(rolledBack);
        seen2.forEach((id, txid) -> {
            if (seen1.containsKey(id)) {
                assertThat(Long.compareUnsigned(txid, persisted))
                        .as("event %s came again after the restart although below the watermark", id)
                        .isGreaterThanOrEqualTo(0);
            }
        });
        assertThat(drain(r2)).isEmpty();
    }

    private static Set<Long> union(Map<Long, Long> a, Map<Long, Long> b) {
        Set<Long> s = new java.util.HashSet<>(a.keySet());
        s.addAll(b.keySet());
        return s;
    }

    @Test
    void pinnedHorizonPastTheBound_fallsBackToRereadingWithoutSkipping() throws Exception {
        OutboxCursor cursor = new OutboxCursor(outbox, 0, 3, 2);
        drain(cursor);
        try (Connection t1 = pg.bare()) {
            t1.setAutoCommit(false);
            long pinned;
            try (Statement st = t1.createStatement()) {
                ResultSet rs =
                        st.executeQuery("INSERT INTO scheduler_outbox (event_type) VALUES ('pinned') RETURNING id");
                rs.next();
                pinned = rs.getLong(1);
            }
            List<Long> others = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                others.add(pg.queryLong("INSERT INTO scheduler_outbox (event_type) VALUES ('other') RETURNING id"));
            }
            Set<Long> seen = new java.util.HashSet<>();
            boolean overflowed = false;
            for (int i = 0; i < 30 && !seen.containsAll(others); i++) {
                OutboxCursor.Batch b = cursor.next();
                b.events().forEach(e -> seen.add(e.id()));
                cursor.acknowledge(b);
                overflowed |= cursor.overflowing();
            }
            assertThat(seen).containsAll(others).doesNotContain(pinned);
            assertThat(overflowed).isTrue();
            assertThat(cursor.applied()).hasSizeLessThanOrEqualTo(3);

            t1.commit();
            Set<Long> after = new java.util.HashSet<>();
            for (int i = 0; i < 30 && !after.contains(pinned); i++) {
                OutboxCursor.Batch b = cursor.next();
                b.events().forEach(e -> after.add(e.id()));
                cursor.acknowledge(b);
            }
            assertThat(after).contains(pinned);
        }
    }

    @Test
    void malformedRows_comeBackTypedPerRow_andTheRestOfTheBatchDecodes() {
        OutboxCursor cursor = new OutboxCursor(outbox, 0, 10_000, 100);
        drain(cursor);
        long mark = pg.maxOutboxId();
        pg.sql(
                "INSERT INTO scheduler_outbox (event_type, account_id, payload) VALUES ('account_changed', NULL, NULL)",
                "INSERT INTO scheduler_outbox (event_type, account_id, payload) VALUES ('account_changed', 5, '{\"group_ids\": \"7\"}')",
                "INSERT INTO scheduler_outbox (event_type, payload) VALUES ('account_bulk_changed', '[1, 2]')",
                "INSERT INTO scheduler_outbox (event_type, payload) VALUES ('account_bulk_changed', '{\"account_ids\": [1, \"x\"]}')",
                "INSERT INTO scheduler_outbox (event_type, payload) VALUES ('group_changed', '{}')",
                "INSERT INTO scheduler_outbox (event_type, payload) VALUES ('account_last_used', '{\"last_used\": {\"abc\": 1}}')",
                "INSERT INTO scheduler_outbox (event_type, payload) VALUES ('full_rebuild', '{\"refresh_account_metadata\": \"yes\"}')",
                "INSERT INTO scheduler_outbox (event_type, account_id, payload) VALUES ('account_changed', 9, '{\"group_ids\": [3, 1, 3]}')",
                "INSERT INTO scheduler_outbox (event_type, payload) VALUES ('full_rebuild', NULL)",
                "INSERT INTO scheduler_outbox (event_type, payload) VALUES ('full_rebuild', '{\"refresh_account_metadata\": true}')",
                "INSERT INTO scheduler_outbox (event_type, payload) VALUES ('account_last_used', '{\"last_used\": {\"5\": 1700000000, \"6\": 1700000001.5}}')",
                "INSERT INTO scheduler_outbox (event_type, account_id, payload) VALUES ('account_groups_changed', 4, '{\"group_ids\": [8]}')",
                "INSERT INTO scheduler_outbox (event_type, group_id) VALUES ('group_changed', 12)",
                "INSERT INTO scheduler_outbox (event_type) VALUES ('something_new')");

        List<OutboxEvent> events = drain(cursor);
        assertThat(events).hasSize(14);
        assertThat(ids(events)).allMatch(id -> id > mark);
        List<OutboxEvent> bad = events.subList(0, 7);
        assertThat(bad).allSatisfy(e -> assertThat(e).isInstanceOf(Malformed.class));
        assertThat(bad)
                .extracting(e -> ((Malformed) e).reason())
                .containsExactly(
                        "account_changed has no account_id",
                        "group_ids must be an array of ids, got \"7\"",
                        "payload must be a JSON object, got array",
                        "account_ids must hold integer ids, found \"x\"",
                        "group_changed names no group (neither group_id nor group_ids)",
                        "last_used key 'abc' is not an account id",
                        "refresh_account_metadata must be a JSON boolean, got \"yes\"");
        assertThat(((Malformed) bad.get(1)).id()).isEqualTo(mark + 2);
        assertThat(events.get(7))
                .isEqualTo(new AccountChanged(
                        mark + 8, events.get(7).txid(), events.get(7).createdAt(), 9, List.of(1L, 3L)));
        assertThat(events.get(8))
                .isInstanceOfSatisfying(
                        FullRebuild.class,
                        e -> assertThat(e.refreshAccountMetadata()).isFalse());
        assertThat(events.get(9))
                .isInstanceOfSatisfying(
                        FullRebuild.class,
                        e -> assertThat(e.refreshAccountMetadata()).isTrue());
        assertThat(events.get(10))
                .isInstanceOfSatisfying(
                        AccountLastUsed.class,
                        e -> assertThat(e.lastUsed())
                                .containsExactlyInAnyOrderEntriesOf(Map.of(
                                        5L, Instant.ofEpochSecond(1_700_000_000L),
                                        6L, Instant.ofEpochSecond(1_700_000_001L, 500_000_000))));
        assertThat(events.get(11)).isInstanceOfSatisfying(AccountGroupsChanged.class, e -> {
            assertThat(e.accountIds()).containsExactly(4L);
            assertThat(e.groupIds()).containsExactly(8L);
        });
        assertThat(events.get(12))
                .isInstanceOfSatisfying(
                        OutboxEvent.GroupChanged.class,
                        e -> assertThat(e.groupIds()).containsExactly(12L));
        assertThat(events.get(13))
                .isInstanceOfSatisfying(
                        Unknown.class, e -> assertThat(e.eventType()).isEqualTo("something_new"));
    }

    @Test
    void stats_reportPendingLagAndTheHorizonHolder() throws Exception {
        OutboxCursor cursor = new OutboxCursor(outbox, 0, 10_000, 100);
        drain(cursor);
        assertThat(cursor.stats().pending()).isZero();
        assertThat(cursor.stats().lag()).isEqualTo(Duration.ZERO);

        try (Connection t1 = pg.bare()) {
            t1.setAutoCommit(false);
            int pid;
            try (Statement st = t1.createStatement()) {
                ResultSet rs = st.executeQuery("SELECT pg_backend_pid(), pg_current_xact_id()");
                rs.next();
                pid = rs.getInt(1);
            }
            pg.sql(
                    "INSERT INTO scheduler_outbox (event_type) VALUES ('p1')",
                    "INSERT INTO scheduler_outbox (event_type) VALUES ('p2')");
            OutboxStats s = cursor.stats();
            assertThat(s.pending()).isEqualTo(2);
            assertThat(s.horizonHolderPid()).isEqualTo(pid);
            assertThat(s.horizonAge().isNegative()).isFalse();
            Instant oldest = Instant.ofEpochMilli(0);
            try (Connection c = pg.bare();
                    Statement st = c.createStatement();
                    ResultSet rs =
                            st.executeQuery("SELECT min(created_at) FROM scheduler_outbox WHERE event_type = 'p1'")) {
                rs.next();
                oldest = rs.getTimestamp(1).toInstant();
            }
            assertThat(s.oldestPendingAt()).isEqualTo(oldest);
            assertThat(s.lag()).isEqualTo(Duration.between(oldest, s.databaseNow()));

            drain(cursor);
            OutboxStats afterDrain = cursor.stats();
            assertThat(afterDrain.pending())
                    .as("applied events above a pinned horizon are not pending")
                    .isZero();
            assertThat(afterDrain.watermark()).isLessThanOrEqualTo(afterDrain.horizon());
            t1.rollback();
        }
        OutboxStats free = cursor.stats();
        assertThat(free.horizonHolderPid()).isNull();
        assertThat(free.horizonAge()).isEqualTo(Duration.ZERO);
    }

    @Test
    void retention_deletesAppliedOldEventsInBatchesUnderTheLock() throws Exception {
        OutboxCursor cursor = new OutboxCursor(outbox, 0, 10_000, 100);
        for (int i = 0; i < 7; i++) {
            pg.sql("INSERT INTO scheduler_outbox (event_type) VALUES ('old')");
        }
        drain(cursor);
        drain(cursor); // a second empty read moves the watermark past the last batch's horizon
        long wm = cursor.watermark();
        long below = pg.queryLong("SELECT count(*) FROM scheduler_outbox WHERE txid < '" + wm + "'::xid8");
        long total = pg.queryLong("SELECT count(*) FROM scheduler_outbox");
        assertThat(below).isGreaterThanOrEqualTo(7);

        assertThat(outbox.deleteApplied(wm, Duration.ofHours(1), 3).deleted()).isZero();

        try (Connection other = pg.bare();
                Statement st = other.createStatement()) {
            st.execute("SELECT pg_advisory_lock(" + PostgresOutbox.RETENTION_LOCK_KEY + ")");
            RetentionResult blocked = outbox.deleteApplied(wm, Duration.ZERO, 3);
            assertThat(blocked.lockAcquired()).isFalse();
            assertThat(blocked.deleted()).isZero();
            st.execute("SELECT pg_advisory_unlock(" + PostgresOutbox.RETENTION_LOCK_KEY + ")");
        }

        RetentionResult r = outbox.deleteApplied(wm, Duration.ZERO, 3);
        assertThat(r.lockAcquired()).isTrue();
        assertThat(r.deleted()).isEqualTo(below);
        assertThat(r.batches()).isEqualTo((int) (below / 3 + 1));
        assertThat(pg.queryLong("SELECT count(*) FROM scheduler_outbox")).isEqualTo(total - below);
        assertThat(pg.queryLong("SELECT count(*) FROM scheduler_outbox WHERE txid < '" + wm + "'::xid8"))
                .isZero();
    }

    @Test
    void platformsOfAccountEvents_decodeWhenPresent_areUnknownWhenAbsent_andMalformedWhenWrong() {
        OutboxEventDecoder d = new OutboxEventDecoder();
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        assertThat(d.decode(new OutboxEventDecoder.Row(
                        1,
                        5,
                        "account_changed",
                        9L,
                        null,
                        "{\"group_ids\":[2],\"platforms\":[\"openai\",\"anthropic\"]}",
                        t)))
                .isEqualTo(new AccountChanged(1, 5, t, 9, List.of(2L), List.of("anthropic", "openai")));
        assertThat(d.decode(new OutboxEventDecoder.Row(
                        2,
                        5,
                        "account_bulk_changed",
                        null,
                        null,
                        "{\"account_ids\":[1,2],\"platforms\":[\"kimi\"]}",
                        t)))
                .isEqualTo(new OutboxEvent.AccountBulkChanged(2, 5, t, List.of(1L, 2L), List.of(), List.of("kimi")));
        // A payload from before schema version 3 (or another writer) does not say: null, not "none".
        assertThat(((AccountChanged) d.decode(
                                new OutboxEventDecoder.Row(3, 5, "account_changed", 9L, null, "{\"group_ids\":[]}", t)))
                        .platforms())
                .isNull();
        assertThat(((OutboxEvent.AccountBulkChanged) d.decode(new OutboxEventDecoder.Row(
                                4, 5, "account_bulk_changed", null, null, "{\"account_ids\":[1]}", t)))
                        .platforms())
                .isNull();
        assertThat(d.decode(
                        new OutboxEventDecoder.Row(5, 5, "account_changed", 9L, null, "{\"platforms\":\"openai\"}", t)))
                .isInstanceOfSatisfying(
                        Malformed.class,
                        m -> assertThat(m.reason())
                                .isEqualTo("platforms must be an array of platform names, got \"openai\""));
        assertThat(d.decode(new OutboxEventDecoder.Row(
                        6, 5, "account_changed", 9L, null, "{\"platforms\":[\"Open AI\"]}", t)))
                .isInstanceOfSatisfying(
                        Malformed.class,
                        m -> assertThat(m.reason())
                                .isEqualTo(
                                        "platforms must hold names matching [a-z][a-z0-9_-]{0,31}, found \"Open AI\""));
    }
}
