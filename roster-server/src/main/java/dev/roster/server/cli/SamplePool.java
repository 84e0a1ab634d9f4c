package dev.roster.server.cli;

import com.zaxxer.hikari.HikariDataSource;
import dev.roster.postgres.Databases;
import dev.roster.postgres.Migrator;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.jspecify.annotations.Nullable;

/**
 * The demo's stand-in for another client of the database, writing plain SQL the way a gateway's own
 * code or an operator's script would: it loads a deterministic sample pool (groups on four platforms,
 * accounts with mixed-scheduling antigravity members, rate-limited, overloaded, disabled, paused,
 * soft-deleted and ungrouped ones) and makes the tour's changes. Roster itself never writes this way; the
 * point of the tour is that the capture triggers see these writes like any other.
 */
final class SamplePool implements AutoCloseable {
    /** One group of the pool. */
    record GroupSpec(String name, String platform, String status) {}

    static final List<GroupSpec> GROUPS = List.of(
            new GroupSpec("claude-main", "anthropic", "active"),
            new GroupSpec("claude-backup", "anthropic", "active"),
            new GroupSpec("gemini-pro", "gemini", "active"),
            new GroupSpec("openai-team", "openai", "active"),
            new GroupSpec("antigravity-lab", "antigravity", "active"),
            new GroupSpec("claude-archived", "anthropic", "disabled"));

    private final HikariDataSource ds;

    private SamplePool(HikariDataSource ds) {
        this.ds = ds;
    }

    /** A client of the database at {@code url} (no password: the demo's embedded server). */
    static SamplePool open(String url, String user) {
        return new SamplePool(Databases.pool(url, user, "", 2));
    }

    /** Applies Roster's migrations (the demo's database is fresh). */
    Migrator.Result migrate() {
        return new Migrator(ds).migrate();
    }

    /** Loads the pool; returns the number of accounts written. {@code now} anchors the time blocks. */
    int load(Instant now, int accountsPerPlatform) throws SQLException {
        try (Connection c = ds.getConnection()) {
            return load(c, now, accountsPerPlatform);
        }
    }

    /** The id of the group named {@code name}. */
    long groupId(String name) throws SQLException {
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT id FROM groups WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** The one number {@code query} returns. */
    long scalar(String query) throws SQLException {
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Runs one statement in its own transaction. */
    void exec(String statement) throws SQLException {
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement()) {
            st.execute(statement);
        }
    }

    @Override
    public void close() {
        ds.close();
    }

    private static int load(Connection c, Instant now, int accountsPerPlatform) throws SQLException {
        Random rnd = new Random(42);
        List<Long> groupIds = new ArrayList<>();
        try (PreparedStatement g =
                c.prepareStatement("INSERT INTO groups(name, platform, status) VALUES (?, ?, ?) RETURNING id")) {
            for (GroupSpec s : GROUPS) {
                g.setString(1, s.name());
                g.setString(2, s.platform());
                g.setString(3, s.status());
                try (ResultSet rs = g.executeQuery()) {
                    rs.next();
                    groupIds.add(rs.getLong(1));
                }
            }
        }
        String[] platforms = {"anthropic", "gemini", "openai", "antigravity"};
        String[] types = {"oauth", "apikey", "setup-token"};
        int n = 0;
        try (PreparedStatement a = c.prepareStatement(
                        "INSERT INTO accounts(name, platform, type, status, schedulable, priority, concurrency,"
                                + " credentials, extra, rate_limit_reset_at, overload_until, deleted_at)"
                                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?) RETURNING id");
                PreparedStatement link = c.prepareStatement(
                        "INSERT INTO account_groups(account_id, group_id, priority) VALUES (?, ?, ?)")) {
            for (String p : platforms) {
                for (int i = 1; i <= accountsPerPlatform; i++) {
                    n++;
                    String status = i == 3 ? "disabled" : i == 4 ? "error" : "active";
                    boolean schedulable = i != 5;
                    boolean mixed = p.equals("antigravity") && i % 2 == 0;
                    Instant rateLimited = i % 6 == 0 ? now.plus(Duration.ofMinutes(10 + i)) : null;
                    Instant overloaded = i == 7 ? now.plus(Duration.ofSeconds(90)) : null;
                    Instant deleted = i == 8 ? now.minus(Duration.ofDays(1)) : null;
                    a.setString(1, p + "-" + String.format("%02d", i));
                    a.setString(2, p);
                    a.setString(3, types[rnd.nextInt(types.length)]);
                    a.setString(4, status);
                    a.setBoolean(5, schedulable);
                    a.setInt(6, 1 + rnd.nextInt(3) * 10);
                    a.setInt(7, 1 + rnd.nextInt(8));
                    a.setString(8, "{\"api_key\":\"sk-demo-" + p + "-" + i + "\"}");
                    a.setString(9, mixed ? "{\"mixed_scheduling\":true}" : "{}");
                    setInstant(a, 10, rateLimited);
                    setInstant(a, 11, overloaded);
                    setInstant(a, 12, deleted);
                    long id;
                    try (ResultSet rs = a.executeQuery()) {
                        rs.next();
                        id = rs.getLong(1);
                    }
                    if (i > accountsPerPlatform - 2) {
                        continue; // the last two of each platform stay ungrouped
                    }
                    for (int gi = 0; gi < GROUPS.size(); gi++) {
                        GroupSpec gs = GROUPS.get(gi);
                        boolean member = gs.platform().equals(p) && (gi != 1 || i % 2 == 1);
                        if (member) {
                            link.setLong(1, id);
                            link.setLong(2, groupIds.get(gi));
                            link.setInt(3, 1 + rnd.nextInt(3));
                            link.addBatch();
                        }
                    }
                    if (mixed) {
                        // mixed antigravity accounts also serve the anthropic main group
                        link.setLong(1, id);
                        link.setLong(2, groupIds.get(0));
                        link.setInt(3, 5);
                        link.addBatch();
                    }
                }
            }
            link.executeBatch();
        }
        try (Statement st = c.createStatement()) {
            st.execute("ANALYZE");
        }
        return n;
    }

    private static void setInstant(PreparedStatement ps, int i, @Nullable Instant t) throws SQLException {
        if (t == null) {
            ps.setNull(i, Types.TIMESTAMP_WITH_TIMEZONE);
        } else {
            ps.setTimestamp(i, Timestamp.from(t));
        }
    }
}
