package dev.roster.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.roster.testkit.PostgresHarness;
import dev.roster.testkit.PostgresHarness.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Migrations: fresh database, idempotence, refusal of a foreign database, and constraint errors. */
class MigratorTest {
    static PgFixture pg;

    @BeforeAll
    static void setUp() {
        pg = PgFixture.migrated("migrator");
    }

    @AfterAll
    static void tearDown() {
        pg.close();
    }

    @Test
    void migratingTwice_appliesNothingTheSecondTime() {
        Migrator.Result again = new Migrator(pg.ds).migrate();
        assertThat(again.applied()).isZero();
        assertThat(again.version()).isEqualTo("6");
        assertThat(pg.queryLong("SELECT count(*) FROM " + Migrator.HISTORY_TABLE + " WHERE success"))
                .isEqualTo(6);
    }

    @Test
    void databaseWithTheTablesButNoRosterHistory_isRefused() throws SQLException {
        TestDatabase db = PostgresHarness.shared().newDatabase("foreign");
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            st.execute("CREATE TABLE accounts (id bigserial PRIMARY KEY, name text)");
            st.execute("CREATE TABLE scheduler_outbox (id bigserial PRIMARY KEY, event_type text)");
        }
        try (HikariDataSource ds = Databases.pool(db.jdbcUrl(), db.user(), db.password(), 2)) {
            assertThatThrownBy(() -> new Migrator(ds).migrate())
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("accounts, scheduler_outbox")
                    .hasMessageContaining("no Roster migration history")
                    .hasMessageContaining(Migrator.HISTORY_TABLE);
        }
        try (Connection c = db.connect();
                Statement st = c.createStatement()) {
            var rs = st.executeQuery("SELECT to_regclass('" + Migrator.HISTORY_TABLE + "') IS NULL");
            rs.next();
            assertThat(rs.getBoolean(1)).as("nothing was created").isTrue();
        }
    }

    @Test
    void constraintViolationsByPlainSql_nameTheRule() {
        String[][] cases = {
            {
                "INSERT INTO accounts (name, platform, type, priority) VALUES ('x', 'openai', 'apikey', -1)",
                "account_priority_must_not_be_negative"
            },
            {
                "INSERT INTO accounts (name, platform, type, concurrency) VALUES ('x', 'openai', 'apikey', -2)",
                "account_concurrency_must_not_be_negative"
            },
            {
                "INSERT INTO accounts (name, platform, type, status) VALUES ('x', 'openai', 'apikey', 'paused')",
                "account_status_must_be_active_error_or_disabled"
            },
            {
                "INSERT INTO accounts (name, platform, type) VALUES ('x', '', 'apikey')",
                "account_platform_must_match_pattern"
            },
            {
                "INSERT INTO accounts (name, platform, type) VALUES ('x', 'Open AI', 'apikey')",
                "account_platform_must_match_pattern"
            },
            {
                "INSERT INTO accounts (name, platform, type) VALUES ('  ', 'openai', 'apikey')",
                "account_name_must_not_be_empty"
            },
            {
                "INSERT INTO accounts (name, platform, type, credentials) VALUES ('x', 'openai', 'apikey',"
                        + " '{\"model_mapping\": [1]}')",
                "account_model_mapping_must_be_an_object"
            },
            {
                "INSERT INTO groups (name, platform, status) VALUES ('g', 'openai', 'gone')",
                "group_status_must_be_active_inactive_or_disabled"
            },
            {"INSERT INTO groups (name, platform) VALUES ('g', '')", "group_platform_must_match_pattern"},
        };
        for (String[] c : cases) {
            assertThatThrownBy(() -> pg.sql(c[0])).as(c[0]).hasMessageContaining(c[1]);
        }
    }

    @Test
    void linkToMissingGroup_isRejectedAtCommit() {
        long a = pg.account("orphan", "openai");
        assertThatThrownBy(() -> pg.sql("INSERT INTO account_groups (account_id, group_id) VALUES (" + a + ", 999999)"))
                .hasMessageContaining("account_groups_group_must_exist");
    }

    @Test
    void repositoryConstraintErrors_areIllegalArgumentsWithoutCredentials() {
        AccountRepository accounts = new AccountRepository(pg.ds);
        long id = accounts.create(AccountSpec.of("secretive", "openai", "apikey")
                .withCredentials(Map.of("access_token", "sk-very-secret")));
        assertThatThrownBy(() -> accounts.setPriority(id, -5))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("account priority must not be negative")
                .hasMessageNotContaining("sk-very-secret");
        assertThatThrownBy(() -> AccountSpec.of("x", "Bad Platform", "apikey"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Bad Platform");
        assertThatThrownBy(() -> accounts.setStatus(id, "paused"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("paused");
        assertThatThrownBy(() -> accounts.setSchedulable(424242, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("account 424242 does not exist");
        assertThatThrownBy(() -> accounts.replaceGroups(id, java.util.List.of(777777L)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[777777]");
    }
}
