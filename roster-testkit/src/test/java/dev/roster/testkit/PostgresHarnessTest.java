package dev.roster.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class PostgresHarnessTest {

    @Test
    void serves_postgres_17_with_isolated_databases_and_survives_kill_and_restart() throws Exception {
        PostgresHarness h = PostgresHarness.shared();
        PostgresHarness.TestDatabase a = h.newDatabase("a");
        PostgresHarness.TestDatabase b = h.newDatabase("b");
        try (Connection c = a.connect();
                Statement st = c.createStatement()) {
            st.execute("CREATE TABLE t(x int)");
            st.execute("INSERT INTO t VALUES (1)");
            ResultSet rs = st.executeQuery("SHOW server_version_num");
            rs.next();
            assertThat(rs.getInt(1)).isBetween(170000, 179999);
        }
        try (Connection c = b.connect();
                Statement st = c.createStatement()) {
            assertThatThrownBy(() -> st.executeQuery("SELECT * FROM t")).isInstanceOf(SQLException.class);
        }

        h.kill();
        assertThatThrownBy(a::connect).isInstanceOf(SQLException.class);
        h.start();
        try (Connection c = a.connect();
                Statement st = c.createStatement()) {
            ResultSet rs = st.executeQuery("SELECT count(*) FROM t");
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(1);
        }
        h.restart();
        try (Connection c = a.connect()) {
            assertThat(c.isValid(2)).isTrue();
        }
    }

    @Test
    void proxied_database_can_be_paused_and_partitioned_without_touching_the_direct_path() throws Exception {
        try (PostgresHarness.ProxiedDatabase p = PostgresHarness.shared().newProxiedDatabase("proxied")) {
            String url = p.db().jdbcUrl() + "?socketTimeout=1&connectTimeout=1&loginTimeout=1";
            try (Connection c = java.sql.DriverManager.getConnection(url, p.db().user(), "");
                    Statement st = c.createStatement()) {
                st.execute("SELECT 1");
                p.proxy().pause();
                assertThatThrownBy(() -> st.execute("SELECT 1")).isInstanceOf(SQLException.class);
                try (Connection d = p.direct().connect()) {
                    assertThat(d.isValid(2)).isTrue();
                }
                p.proxy().resume();
            }
            p.proxy().partition();
            assertThatThrownBy(() -> java.sql.DriverManager.getConnection(url, p.db().user(), ""))
                    .isInstanceOf(SQLException.class);
            p.proxy().heal();
            try (Connection c = java.sql.DriverManager.getConnection(url, p.db().user(), "")) {
                assertThat(c.isValid(2)).isTrue();
            }
        }
    }
}
