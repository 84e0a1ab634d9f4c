package dev.roster.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roster.core.source.SourceException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Upstream OP-14 (docs/upstream.md): the outbox row is written by the capture trigger in the writer's own
 * transaction, so when it cannot be written the business write must not happen either; otherwise a
 * change would be committed with no event, and no replay would ever bring it into the projection.
 * The insert is made to fail inside the trigger, in two ways a production database can: a constraint
 * on the outbox that refuses the row, and a writer role without the privilege to insert it. In every
 * case the statement fails with the database's error, and the accounts, links and groups rows are as
 * they were, with no outbox row. Once the cause is gone, the same write commits with its event.
 */
class OutboxInsertFailureTest {
    private PgFixture pg;
    private AccountRepository accounts;
    private GroupRepository groups;
    private long group;
    private long account;

    @BeforeEach
    void setUp() {
        // A database of its own per test: the tests alter the outbox table and roles.
        pg = PgFixture.migrated("op14");
        accounts = new AccountRepository(pg.ds);
        groups = new GroupRepository(pg.ds);
        group = pg.group("op14", "openai");
        account = pg.account("op14-account", "openai");
        pg.sql("INSERT INTO account_groups (account_id, group_id, priority) VALUES (" + account + ", " + group
                + ", 1)");
    }

    @AfterEach
    void tearDown() {
        pg.close();
    }

    @Test
    void outboxRowRefusedByAConstraint_rollsBackEveryKindOfBusinessWrite() throws SQLException {
        String before = state();
        long mark = pg.maxOutboxId();
        // NOT VALID: existing rows are not checked, every new row is refused.
        pg.sql("ALTER TABLE scheduler_outbox ADD CONSTRAINT op14_refuse_all CHECK (false) NOT VALID");

        // Plain SQL, as any other writer of the database.
        assertThatThrownBy(() -> pg.sql("UPDATE accounts SET priority = 9 WHERE id = " + account))
                .hasMessageContaining("op14_refuse_all");
        assertThatThrownBy(() -> pg.sql("DELETE FROM account_groups WHERE account_id = " + account))
                .hasMessageContaining("op14_refuse_all");
        assertThatThrownBy(() -> pg.sql("UPDATE groups SET status = 'inactive' WHERE id = " + group))
                .hasMessageContaining("op14_refuse_all");
        // A transaction of several business statements: the first one's trigger fails, the whole
        // transaction is aborted, and a commit rolls it back.
        try (Connection c = pg.bare()) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.executeUpdate("UPDATE accounts SET name = 'renamed' WHERE id = " + account);
                throw new AssertionError("the UPDATE committed its row without its outbox row");
            } catch (SQLException e) {
                assertThat(e.getSQLState()).as("check_violation").isEqualTo("23514");
            }
            try (Statement st = c.createStatement()) {
                assertThatThrownBy(() -> st.executeUpdate("UPDATE accounts SET priority = 2 WHERE id = " + account))
                        .as("the transaction is aborted after the failed trigger")
                        .isInstanceOf(SQLException.class)
                        .hasMessageContaining("current transaction is aborted");
            }
            c.commit();
        }
        // Through the repositories (Roster's own write path): a store error (not the caller's bad
        // input) that says what was refused and that the change was rolled back.
        for (org.assertj.core.api.ThrowableAssert.ThrowingCallable write :
                List.<org.assertj.core.api.ThrowableAssert.ThrowingCallable>of(
                        () -> accounts.setPriority(account, 9),
                        () -> accounts.create(AccountSpec.of("never", "openai", "apikey"), List.of(group)),
                        () -> accounts.bindGroup(account, group, 5),
                        () -> groups.setStatus(group, "inactive"))) {
            assertThatThrownBy(write)
                    .isInstanceOf(SourceException.class)
                    .hasMessageContaining("rolled back because scheduler_outbox refused its event (op14 refuse all)");
        }

        assertThat(state())
                .as("accounts, links and groups after the refused writes")
                .isEqualTo(before);
        assertThat(pg.outboxAfter(mark)).as("outbox rows").isEmpty();

        pg.sql("ALTER TABLE scheduler_outbox DROP CONSTRAINT op14_refuse_all");
        accounts.setPriority(account, 9);
        assertThat(pg.outboxAfter(mark))
                .singleElement()
                .satisfies(r -> assertThat(r.accountId()).isEqualTo(account));
        assertThat(pg.queryLong("SELECT priority FROM accounts WHERE id = " + account))
                .isEqualTo(9);
    }

    @Test
    void writerWithoutTheOutboxPrivilege_cannotChangeAccounts() throws SQLException {
        String role = "op14_writer_" + pg.db.name().replaceAll("[^a-z0-9_]", "_");
        String before = state();
        long mark = pg.maxOutboxId();
        // The trigger runs with the writer's rights: a role that may update accounts but not insert
        // into the outbox (a privilege revoked by mistake, a new service account set up by hand).
        pg.sql(
                "CREATE ROLE " + role + " NOLOGIN",
                "GRANT " + role + " TO CURRENT_USER",
                "GRANT USAGE ON SCHEMA public TO " + role,
                "GRANT SELECT, UPDATE, INSERT, DELETE ON accounts, account_groups, groups TO " + role,
                "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO " + role,
                "REVOKE INSERT ON scheduler_outbox FROM " + role);
        try {
            try (Connection c = pg.bare();
                    Statement st = c.createStatement()) {
                st.execute("SET ROLE " + role);
                assertThatThrownBy(() -> st.executeUpdate("UPDATE accounts SET priority = 9 WHERE id = " + account))
                        .isInstanceOf(SQLException.class)
                        .hasMessageContaining("scheduler_outbox")
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState())
                                .as("insufficient_privilege")
                                .isEqualTo("42501"));
                assertThatThrownBy(() -> st.executeUpdate("DELETE FROM account_groups WHERE account_id = " + account))
                        .hasMessageContaining("scheduler_outbox");
                st.execute("RESET ROLE");
            }
            assertThat(state())
                    .as("accounts, links and groups after the refused writes")
                    .isEqualTo(before);
            assertThat(pg.outboxAfter(mark)).as("outbox rows").isEmpty();
        } finally {
            pg.sql("DROP OWNED BY " + role, "DROP ROLE " + role);
        }
    }

    /** Every business row, as text: what a refused write must leave untouched. */
    private String state() {
        StringBuilder sb = new StringBuilder();
        for (String q : List.of(
                "SELECT string_agg(a::text, '|' ORDER BY id) FROM accounts a",
                "SELECT string_agg(l::text, '|' ORDER BY account_id, group_id) FROM account_groups l",
                "SELECT string_agg(g::text, '|' ORDER BY id) FROM groups g")) {
            try (Connection c = pg.bare();
                    Statement st = c.createStatement();
                    var rs = st.executeQuery(q)) {
                rs.next();
                sb.append(rs.getString(1)).append('\n');
            } catch (SQLException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }
        return sb.toString();
    }
}
