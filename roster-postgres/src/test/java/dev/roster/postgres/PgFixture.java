package dev.roster.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariDataSource;
import dev.roster.testkit.PostgresHarness;
import dev.roster.testkit.PostgresHarness.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** A migrated database of its own for one test class, with a pool and helpers for raw SQL. */
final class PgFixture implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    final TestDatabase db;
    final HikariDataSource ds;

    private PgFixture(TestDatabase db, HikariDataSource ds) {
        this.db = db;
        this.ds = ds;
    }

    static PgFixture migrated(String hint) {
        TestDatabase db = PostgresHarness.shared().newDatabase(hint);
        HikariDataSource ds = Databases.pool(db.jdbcUrl(), db.user(), db.password(), 8);
        new Migrator(ds).migrate();
        return new PgFixture(db, ds);
    }

    /** A bare JDBC connection (not from the pool), auto-commit on. */
    Connection bare() throws SQLException {
        return db.connect();
    }

    /** Runs statements through a bare connection, auto-commit. */
    void sql(String... statements) {
        try (Connection c = bare();
                Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    long queryLong(String sql) {
        try (Connection c = bare();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    long maxOutboxId() {
        return queryLong("SELECT coalesce(max(id), 0) FROM scheduler_outbox");
    }

    /** A raw outbox row as stored. */
    record Row(long id, String type, Long accountId, Long groupId, JsonNode payload) {
        List<Long> ids(String field) {
            List<Long> out = new ArrayList<>();
            payload.get(field).forEach(n -> out.add(n.longValue()));
            return out;
        }
    }

    List<Row> outboxAfter(long id) {
        try (Connection c = bare();
                PreparedStatement ps = c.prepareStatement(
                        "SELECT id, event_type, account_id, group_id, payload::text FROM scheduler_outbox"
                                + " WHERE id > ? ORDER BY id")) {
            ps.setLong(1, id);
            List<Row> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String p = rs.getString(5);
                    out.add(new Row(
                            rs.getLong(1),
                            rs.getString(2),
                            (Long) rs.getObject(3),
                            (Long) rs.getObject(4),
                            p == null ? null : JSON.readTree(p)));
                }
            }
            return out;
        } catch (Exception e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** Inserts an account by plain SQL; returns its id. */
    long account(String name, String platform) {
        return queryLong("INSERT INTO accounts (name, platform, type) VALUES ('" + name + "', '" + platform
                + "', 'apikey') RETURNING id");
    }

    long group(String name, String platform) {
        return queryLong(
                "INSERT INTO groups (name, platform) VALUES ('" + name + "', '" + platform + "') RETURNING id");
    }

    @Override
    public void close() {
        ds.close();
    }
}
