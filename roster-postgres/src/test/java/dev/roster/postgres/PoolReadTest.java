package dev.roster.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.core.AccountCard;
import dev.roster.core.GroupLink;
import dev.roster.core.source.BatchRead;
import dev.roster.core.source.GroupInfo;
import dev.roster.core.source.PoolSink;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The pool load and the batch read of {@link PostgresSchedulingSource}: each reads one snapshot, so a
 * change committed by another transaction after that snapshot was taken is absent from every statement
 * of the read, and the horizon belongs to the same snapshot.
 */
class PoolReadTest {
    PgFixture pg;
    PostgresSchedulingSource source;

    @BeforeEach
    void setUp() {
        pg = PgFixture.migrated("pool_read");
        source = new PostgresSchedulingSource(pg.ds);
    }

    @AfterEach
    void tearDown() {
        pg.close();
    }

    /** What a load streamed, in order. */
    static final class Recorder implements PoolSink {
        final Map<Long, GroupInfo> groups = new LinkedHashMap<>();
        final Map<Long, AccountCard> cards = new LinkedHashMap<>();
        final List<String> order = new ArrayList<>();
        Runnable onFirstGroup = () -> {};

        @Override
        public void group(GroupInfo group) {
            if (groups.isEmpty()) {
                onFirstGroup.run();
            }
            order.add("group");
            groups.put(group.id(), group);
        }

        @Override
        public void account(AccountCard card) {
            order.add("account");
            cards.put(card.id(), card);
        }
    }

    private static long txid(Connection c) throws Exception {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_current_xact_id()::text")) {
            rs.next();
            return Long.parseLong(rs.getString(1));
        }
    }

    @Test
    void loadPool_readsEveryStatementFromTheSnapshotOfItsHorizon() throws Exception {
        long active = pg.group("active", "openai");
        long inactive = pg.group("inactive", "openai");
        long gone = pg.group("gone", "openai");
        pg.sql(
                "UPDATE groups SET status = 'inactive' WHERE id = " + inactive,
                "UPDATE groups SET deleted_at = now() WHERE id = " + gone);
        long linked = pg.account("linked", "openai");
        long erroring = pg.account("erroring", "openai");
        long softDeleted = pg.account("soft", "openai");
        pg.sql(
                "INSERT INTO account_groups (account_id, group_id, priority) VALUES (" + linked + ", " + active
                        + ", 2), (" + linked + ", " + inactive + ", 1)",
                "UPDATE accounts SET status = 'error', priority = 5 WHERE id = " + erroring,
                "UPDATE accounts SET deleted_at = now() WHERE id = " + softDeleted);

        Recorder seen = new Recorder();
        long openTxid;
        try (Connection open = pg.bare()) {
            // A writer in flight when the load starts, committing while the load is between statements.
            open.setAutoCommit(false);
            try (Statement st = open.createStatement()) {
                st.execute("UPDATE accounts SET priority = 40 WHERE id = " + linked);
            }
            openTxid = txid(open);
            seen.onFirstGroup = () -> {
                try {
                    open.commit();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                pg.sql(
                        "UPDATE accounts SET priority = 41 WHERE id = " + erroring,
                        "INSERT INTO accounts (name, platform, type) VALUES ('late', 'openai', 'apikey')",
                        "DELETE FROM account_groups WHERE account_id = " + linked + " AND group_id = " + active);
            };

            long horizon = source.loadPool(seen);

            assertThat(horizon).as("horizon of the load's snapshot").isLessThanOrEqualTo(openTxid);
        }
        assertThat(seen.order).startsWith("group", "group").endsWith("account");
        assertThat(seen.order.indexOf("account")).isEqualTo(seen.groups.size());
        assertThat(seen.groups).containsOnlyKeys(active, inactive);
        assertThat(seen.groups.get(inactive).status()).isEqualTo("inactive");
        assertThat(seen.cards).containsOnlyKeys(linked, erroring);
        assertThat(seen.cards.get(linked).priority()).isNotEqualTo(40);
        assertThat(seen.cards.get(linked).groups())
                .containsExactly(new GroupLink(inactive, 1), new GroupLink(active, 2));
        assertThat(seen.cards.get(erroring).priority()).isEqualTo(5);
        assertThat(seen.cards.get(erroring).status()).isEqualTo("error");
        // The change really committed: a fresh read sees it.
        assertThat(source.loadCards(List.of(linked)).get(linked).priority()).isEqualTo(40);
    }

    @Test
    void loadPool_cardsEqualTheCardsReadOneByOne() {
        for (int g = 0; g < 5; g++) {
            long unused = pg.group("g" + g, "anthropic");
        }
        pg.sql("INSERT INTO accounts (name, platform, type, credentials, extra) SELECT 'a' || i, 'anthropic',"
                + " 'oauth', CASE WHEN i % 3 = 0 THEN '{\"model_mapping\":{\"b\":\"x\",\"a\":\"y\"}}'::jsonb"
                + " ELSE '{}'::jsonb END, CASE WHEN i % 4 = 0 THEN '{\"mixed_scheduling\":true}'::jsonb"
                + " ELSE '{}'::jsonb END FROM generate_series(1, 60) i");
        // Ties in link priority are ordered by group id.
        pg.sql("INSERT INTO account_groups (account_id, group_id, priority) SELECT a.id, g.id, (a.id + g.id) % 3"
                + " FROM accounts a JOIN groups g ON (a.id + g.id) % 2 = 0");
        Recorder seen = new Recorder();
        source.loadPool(seen);
        List<Long> ids = new ArrayList<>(seen.cards.keySet());
        assertThat(ids).hasSize(60).isSorted();
        assertThat(seen.cards).isEqualTo(source.loadCards(ids));
        assertThat(seen.cards.values()).anySatisfy(c -> assertThat(c.groups()).hasSizeGreaterThan(1));
    }

    @Test
    void readBatch_readsTheNamedRowsFromTheSnapshotOfItsOutboxRead() throws Exception {
        long linkedGroup = pg.group("linked", "gemini");
        long disabled = pg.group("disabled", "gemini");
        long deletedGroup = pg.group("deleted", "gemini");
        pg.sql(
                "UPDATE groups SET status = 'disabled' WHERE id = " + disabled,
                "UPDATE groups SET deleted_at = now() WHERE id = " + deletedGroup);
        long kept = pg.account("kept", "gemini");
        long toDelete = pg.account("to-delete", "gemini");
        long softDeleted = pg.account("soft", "gemini");
        pg.sql(
                "INSERT INTO account_groups (account_id, group_id) VALUES (" + kept + ", " + linkedGroup + ")",
                "UPDATE accounts SET deleted_at = now() WHERE id = " + softDeleted);

        BatchRead read;
        try (Connection writer = pg.bare()) {
            // The writer holds the links table, so the batch's card statement waits after its outbox
            // statement has taken the snapshot; the writer commits while it waits.
            writer.setAutoCommit(false);
            try (Statement st = writer.createStatement()) {
                st.execute("LOCK TABLE account_groups IN ACCESS EXCLUSIVE MODE");
            }
            CompletableFuture<BatchRead> pending =
                    CompletableFuture.supplyAsync(() -> source.readBatch(0, Set.of(), null, 10_000));
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> pg.queryLong("SELECT count(*) FROM pg_locks WHERE NOT granted"
                                    + " AND relation = 'account_groups'::regclass")
                            == 1);
            long writerTxid;
            try (Statement st = writer.createStatement()) {
                st.execute("UPDATE accounts SET priority = 77 WHERE id = " + kept);
                st.execute("UPDATE accounts SET deleted_at = now() WHERE id = " + toDelete);
                st.execute("UPDATE accounts SET deleted_at = NULL WHERE id = " + softDeleted);
                st.execute("UPDATE groups SET deleted_at = now() WHERE id = " + disabled);
                st.execute("UPDATE groups SET deleted_at = NULL WHERE id = " + deletedGroup);
                writerTxid = txid(writer);
            }
            writer.commit();
            read = pending.get(20, TimeUnit.SECONDS);
            assertThat(read.outbox().horizon()).isLessThanOrEqualTo(writerTxid);
            assertThat(read.outbox().events())
                    .allSatisfy(e -> assertThat(e.txid()).isLessThan(writerTxid));
        }
        assertThat(read.outbox().events()).isNotEmpty();
        assertThat(read.accounts()).containsOnlyKeys(kept, toDelete);
        assertThat(read.accounts().get(kept).priority()).isNotEqualTo(77);
        assertThat(read.accounts().get(kept).groups())
                .extracting(GroupLink::groupId)
                .containsExactly(linkedGroup);
        assertThat(read.groups()).containsOnlyKeys(linkedGroup, disabled);
        assertThat(read.groups().get(disabled).status()).isEqualTo("disabled");
    }

    @Test
    void readBatch_readsOnlyTheRowsItsEventsName() {
        long g = pg.group("named", "kimi");
        long a = pg.account("named", "kimi");
        BatchRead first = source.readBatch(0, Set.of(), null, 10_000);
        long last = first.outbox().events().getLast().id();
        long b = pg.account("later", "kimi");

        BatchRead next = source.readBatch(
                0,
                Set.of(),
                new dev.roster.core.outbox.OutboxPosition(
                        first.outbox().events().getLast().txid(), last),
                10_000);

        assertThat(first.accounts()).containsOnlyKeys(a);
        assertThat(first.groups()).containsOnlyKeys(g);
        assertThat(next.outbox().events()).hasSize(1);
        assertThat(next.accounts()).containsOnlyKeys(b);
        assertThat(next.groups()).isEmpty();
        BatchRead empty = source.readBatch(Long.MAX_VALUE, Set.of(), null, 10);
        assertThat(empty.outbox().events()).isEmpty();
        assertThat(empty.accounts()).isEmpty();
    }
}
