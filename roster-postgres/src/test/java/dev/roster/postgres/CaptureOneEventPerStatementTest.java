package dev.roster.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.postgres.PgFixture.Row;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * How the account update capture assembles one event per statement without transition tables
 * (decision CP2): the first changed row writes its event at once, further rows are noted in
 * transaction-local settings keyed by trigger depth, and the statement trigger replaces the first
 * event by one that names them all.
 */
class CaptureOneEventPerStatementTest {
    static PgFixture pg;

    @BeforeAll
    static void setUp() {
        pg = PgFixture.migrated("capture_per_statement");
    }

    @AfterAll
    static void tearDown() {
        pg.close();
    }

    private static List<Long> ids(String sql) {
        List<Long> out = new ArrayList<>();
        try (Connection c = pg.bare();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        return out;
    }

    private static List<String> texts(Row r, String field) {
        List<String> out = new ArrayList<>();
        r.payload().get(field).forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void eachCapturedColumn_emitsThroughEitherComparison() {
        long a = pg.account("columns", "openai");
        String[] changes = {
            "status = 'error'",
            "schedulable = false",
            "priority = 3",
            "rate_limit_reset_at = now()",
            "overload_until = now()",
            "temp_unschedulable_until = now()",
            "name = 'renamed'",
            "platform = 'gemini'",
            "type = 'oauth'",
            "concurrency = 9",
            "expires_at = now()",
            "auto_pause_on_expired = true",
            "deleted_at = now()",
            "extra = '{\"mixed_scheduling\": true}'",
            "credentials = '{\"model_mapping\": {\"a\": \"b\"}}'",
            "rpm_limit = 60",
            "weight = 5",
            "quota_threshold_5h = 80",
            "quota_threshold_7d = 90"
        };
        for (String change : changes) {
            long mark = pg.maxOutboxId();
            pg.sql("UPDATE accounts SET " + change + " WHERE id = " + a);
            assertThat(pg.outboxAfter(mark)).as(change).singleElement().satisfies(r -> {
                assertThat(r.type()).isEqualTo("account_changed");
                assertThat(r.accountId()).isEqualTo(a);
            });
        }
    }

    @Test
    void statementOverThousandsOfRows_namesEachChangedIdOnce() {
        pg.sql("INSERT INTO accounts (name, platform, type) SELECT 'many-' || i, 'many', 'oauth'"
                + " FROM generate_series(1, 3000) i");
        long mark = pg.maxOutboxId();

        // Every third row keeps its priority: 2,000 changed ids, several thousand characters of notes.
        pg.sql("UPDATE accounts SET priority = CASE WHEN id % 3 = 0 THEN priority ELSE priority + 1 END"
                + " WHERE platform = 'many'");

        List<Long> changed = ids("SELECT id FROM accounts WHERE platform = 'many' AND id % 3 <> 0 ORDER BY id");
        assertThat(changed).hasSize(2000);
        assertThat(pg.outboxAfter(mark)).singleElement().satisfies(r -> {
            assertThat(r.type()).isEqualTo("account_bulk_changed");
            assertThat(r.ids("account_ids")).containsExactlyElementsOf(changed);
        });
    }

    @Test
    void firstRowsEventIsTakenBack_withItsPlatforms() {
        long a = pg.account("mover-first", "openai");
        long b = pg.account("stayer-second", "kimi");
        long mark = pg.maxOutboxId();

        // The first changed row (the lower id, read first) moves platform; the second does not.
        pg.sql("UPDATE accounts SET platform = CASE WHEN id = " + a + " THEN 'gemini' ELSE platform END,"
                + " priority = priority + 1 WHERE id IN (" + a + ", " + b + ")");

        assertThat(pg.outboxAfter(mark)).singleElement().satisfies(r -> {
            assertThat(r.type()).isEqualTo("account_bulk_changed");
            assertThat(r.ids("account_ids")).containsExactly(a, b);
            assertThat(texts(r, "platforms")).containsExactly("gemini", "openai");
        });
    }

    @Test
    void idChange_namesTheOldAndTheNewIdAndThePlatform() {
        long a = pg.account("renumbered", "openai");
        long moved = a + 1_000_000;
        long mark = pg.maxOutboxId();

        pg.sql("UPDATE accounts SET id = " + moved + " WHERE id = " + a);

        assertThat(pg.outboxAfter(mark)).singleElement().satisfies(r -> {
            assertThat(r.type()).isEqualTo("account_bulk_changed");
            assertThat(r.ids("account_ids")).containsExactly(a, moved);
            assertThat(texts(r, "platforms")).containsExactly("openai");
        });
    }

    @Test
    void updateOfAccountsRunByAnotherTrigger_keepsItsOwnNotes() {
        // A database of its own: the extra trigger must not reach the other tests' statements.
        try (PgFixture own = PgFixture.migrated("capture-nested")) {
            long a = own.account("outer-a", "openai");
            long b = own.account("outer-b", "openai");
            long c = own.account("inner-c", "openai");
            // A client's trigger that, while the outer statement's row events fire, changes another
            // account: its UPDATE runs one trigger level deeper, between the outer rows' firings.
            own.sql(
                    "CREATE FUNCTION test_touch_other() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                            + " UPDATE accounts SET priority = priority + 1 WHERE id = " + c + ";"
                            + " RETURN NULL; END $$",
                    "CREATE TRIGGER zz_touch_other AFTER UPDATE OF priority ON accounts FOR EACH ROW"
                            + " WHEN (NEW.id = " + a + ") EXECUTE FUNCTION test_touch_other()");
            long mark = own.maxOutboxId();

            own.sql("UPDATE accounts SET priority = priority + 1 WHERE id IN (" + a + ", " + b + ")");

            List<Row> rows = own.outboxAfter(mark);
            assertThat(rows).extracting(Row::type).containsExactly("account_changed", "account_bulk_changed");
            assertThat(rows.get(0).accountId()).isEqualTo(c);
            assertThat(rows.get(1).ids("account_ids")).containsExactly(a, b);
        }
    }
}
