package dev.roster.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.postgres.PgFixture.Row;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the capture pre-filter saves, observed through the server's own per-transaction function
 * statistics ({@code track_functions}): an update that names no captured column calls no Roster
 * function, one that names a captured column without changing it runs the comparison and writes
 * nothing, and a statement that changes some rows still writes one event (decision CP1).
 */
class CapturePrefilterTest {
    static PgFixture pg;

    @BeforeAll
    static void setUp() {
        pg = PgFixture.migrated("capture_prefilter");
    }

    @AfterAll
    static void tearDown() {
        pg.close();
    }

    /** Calls of each Roster function in the current transaction of {@code c}, by name (calls > 0 only). */
    private static Map<String, Long> calls(Connection c) throws Exception {
        Map<String, Long> out = new TreeMap<>();
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT p.proname, pg_stat_get_xact_function_calls(p.oid)"
                        + " FROM pg_proc p WHERE p.proname LIKE 'roster\\_%'"
                        + " AND pg_stat_get_xact_function_calls(p.oid) > 0")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
        }
        return out;
    }

    private static Connection tracked() throws Exception {
        Connection c = pg.bare();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("SET LOCAL track_functions = 'pl'");
        }
        return c;
    }

    @Test
    void updatesNamingNoCapturedColumn_callNoCaptureFunction_whileACapturedOneDoes() throws Exception {
        long a = pg.account("quiet", "anthropic");
        long mark = pg.maxOutboxId();
        try (Connection c = tracked();
                Statement st = c.createStatement()) {
            st.execute("UPDATE accounts SET last_used_at = now(), updated_at = now() WHERE id = " + a);
            st.execute("UPDATE accounts SET last_used_at = now() WHERE platform = 'anthropic'");

            assertThat(calls(c)).isEmpty();

            st.execute("UPDATE accounts SET priority = priority + 1 WHERE id = " + a);

            assertThat(calls(c))
                    .containsEntry("roster_capture_accounts_update_row", 1L)
                    .containsEntry("roster_capture_accounts_update_statement", 1L)
                    .doesNotContainKey("roster_emit_accounts");
            c.commit();
        }
        assertThat(pg.outboxAfter(mark))
                .singleElement()
                .satisfies(r -> assertThat(r.accountId()).isEqualTo(a));
    }

    @Test
    void tokenRefreshAndOtherExtraKeys_runTheComparison_andWriteNothing() throws Exception {
        long a = pg.account("refreshed", "anthropic");
        pg.sql("UPDATE accounts SET credentials = '{\"access_token\":\"t0\",\"model_mapping\":{\"m\":\"m\"}}',"
                + " extra = '{\"usage\": 1, \"mixed_scheduling\": true}' WHERE id = " + a);
        long mark = pg.maxOutboxId();
        try (Connection c = tracked();
                Statement st = c.createStatement()) {
            st.execute("UPDATE accounts SET credentials = jsonb_set(credentials, '{access_token}', '\"t1\"'),"
                    + " extra = jsonb_set(extra, '{usage}', '2') WHERE id = " + a);

            assertThat(calls(c))
                    .containsOnlyKeys("roster_capture_accounts_update_row", "roster_capture_accounts_update_statement");
            c.commit();
        }
        assertThat(pg.outboxAfter(mark)).isEmpty();
    }

    @Test
    void emittingTransaction_notifiesWithoutTheWakeFunction() throws Exception {
        long a = pg.account("notified", "openai");
        try (Connection c = tracked();
                Statement st = c.createStatement()) {
            st.execute("UPDATE accounts SET priority = 9 WHERE id = " + a);
            st.execute("UPDATE accounts SET priority = 10 WHERE id = " + a);
            assertThat(calls(c))
                    .containsEntry("roster_capture_accounts_update_row", 2L)
                    .doesNotContainKey("roster_outbox_wake");
            c.rollback();
        }
    }

    @Test
    void statementsChangingSomeOfManyRows_eachWriteOneEvent_inOneTransaction() throws Exception {
        pg.sql("INSERT INTO accounts (name, platform, type) SELECT 'many-' || i, 'kimi', 'oauth'"
                + " FROM generate_series(1, 200) i");
        long mark = pg.maxOutboxId();
        try (Connection c = tracked();
                Statement st = c.createStatement()) {
            // 200 rows updated, 3 of them captured; then 4 others; then one.
            st.execute("UPDATE accounts SET last_used_at = now(), priority = CASE WHEN name IN"
                    + " ('many-1', 'many-2', 'many-3') THEN 1 ELSE priority END WHERE platform = 'kimi'");
            st.execute(
                    "UPDATE accounts SET schedulable = false WHERE name IN ('many-4', 'many-5', 'many-6', 'many-7')");
            st.execute("UPDATE accounts SET priority = 2 WHERE name = 'many-8'");
            // The row function runs for every row whose update names a captured column (200 + 4 + 1),
            // the statement function once per statement, V3's emitter only for the two bulk events.
            assertThat(calls(c))
                    .containsEntry("roster_capture_accounts_update_row", 205L)
                    .containsEntry("roster_capture_accounts_update_statement", 3L)
                    .containsEntry("roster_emit_accounts", 2L);
            c.commit();
        }
        List<Row> rows = pg.outboxAfter(mark);
        assertThat(rows)
                .extracting(Row::type)
                .containsExactly("account_bulk_changed", "account_bulk_changed", "account_changed");
        assertThat(rows.get(0).ids("account_ids")).hasSize(3);
        assertThat(rows.get(1).ids("account_ids")).hasSize(4);
        assertThat(rows.get(2).accountId()).isNotNull();
    }
}
