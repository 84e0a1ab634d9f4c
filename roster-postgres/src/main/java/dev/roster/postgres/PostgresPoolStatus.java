package dev.roster.postgres;

import dev.roster.core.AccountLimits;
import dev.roster.core.status.PoolStatus;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * {@link PoolStatus} over PostgreSQL. Every filter is a bound parameter, and a page is one statement
 * with {@code count(*) OVER ()}, so 10,000 accounts cost one indexed scan per refresh, not 10,000 rows
 * over the wire. Reads run in one read-only snapshot; failures are classified by {@link PgErrors} and
 * never quote row data.
 */
public final class PostgresPoolStatus implements PoolStatus {
    /** A page's links, by link priority, as two parallel arrays (one statement for the whole page). */
    private static final String LINKS =
            ", ARRAY(SELECT l.group_id FROM account_groups l JOIN groups g ON g.id = l.group_id"
                    + " WHERE l.account_id = m.id ORDER BY l.priority, l.group_id) AS link_ids,"
                    + " ARRAY(SELECT g.name FROM account_groups l JOIN groups g ON g.id = l.group_id"
                    + " WHERE l.account_id = m.id ORDER BY l.priority, l.group_id) AS link_names";

    private final DataSource dataSource;

    /** Queries over {@code dataSource}. */
    public PostgresPoolStatus(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    @Override
    public Page accounts(Filter f, Instant now, int offset, int limit) {
        Objects.requireNonNull(f, "filter");
        Objects.requireNonNull(now, "now");
        StringBuilder where = new StringBuilder(" WHERE a.deleted_at IS NULL");
        List<Object> args = new ArrayList<>();
        args.add(Timestamp.from(now));
        if (f.platform() != null) {
            where.append(" AND a.platform = ?");
            args.add(f.platform());
        }
        if (f.groupId() != null) {
            if (f.groupId() == 0) {
                where.append(" AND NOT EXISTS (SELECT 1 FROM account_groups l WHERE l.account_id = a.id)");
            } else {
                where.append(" AND EXISTS (SELECT 1 FROM account_groups l WHERE l.account_id = a.id"
                        + " AND l.group_id = ?)");
                args.add(f.groupId());
            }
        }
        if (f.query() != null && !f.query().isBlank()) {
            String q = f.query().strip();
            String like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%";
            if (q.matches("[0-9]{1,18}")) {
                where.append(" AND (a.id = ? OR a.name ILIKE ?)");
                args.add(Long.parseLong(q));
            } else {
                where.append(" AND a.name ILIKE ?");
            }
            args.add(like);
        }
        if (f.state() != null) {
            where.append(" AND ").append(statePredicate(f.state()));
        }
        String from = " FROM accounts a CROSS JOIN (SELECT ?::timestamptz AS now) p" + where;
        String page = "WITH m AS (SELECT a.*, count(*) OVER () AS total" + from + " ORDER BY a.id LIMIT ? OFFSET ?)"
                + " SELECT m.id, m.name, m.platform, m.type, m.status, m.schedulable, m.priority, m.concurrency,"
                + " m.rate_limit_reset_at, m.overload_until, m.temp_unschedulable_until, m.expires_at,"
                + " m.auto_pause_on_expired, m.last_used_at, m.total, coalesce(m.rpm_limit, 0) AS rpm_limit, m.weight,"
                + " m.quota_threshold_5h, m.quota_threshold_7d" + LINKS + " FROM m ORDER BY m.id";
        try {
            return ReadOnlySnapshot.read(dataSource, c -> {
                List<Object> pageArgs = new ArrayList<>(args);
                pageArgs.add(limit);
                pageArgs.add(offset);
                List<Row> rows = new ArrayList<>();
                long total = 0;
                try (PreparedStatement ps = bound(c, page, pageArgs);
                        ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        total = rs.getLong("total");
                        rows.add(row(rs));
                    }
                }
                if (rows.isEmpty() && offset > 0) {
                    // Past the end (the filter narrowed): the count still comes from the same snapshot.
                    try (PreparedStatement ps = bound(c, "SELECT count(*)" + from, args);
                            ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        total = rs.getLong(1);
                    }
                }
                return new Page(total, rows);
            });
        } catch (SQLException e) {
            throw PgErrors.classify(e, "status page: listing accounts");
        }
    }

    private static PreparedStatement bound(Connection c, String sql, List<Object> args) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        for (int i = 0; i < args.size(); i++) {
            ps.setObject(i + 1, args.get(i));
        }
        return ps;
    }

    private static Row row(ResultSet rs) throws SQLException {
        return new Row(
                rs.getLong("id"),
                rs.getString("name"),
                rs.getString("platform"),
                rs.getString("type"),
                rs.getString("status"),
                rs.getBoolean("schedulable"),
                rs.getInt("priority"),
                rs.getInt("concurrency"),
                instant(rs, "rate_limit_reset_at"),
                instant(rs, "overload_until"),
                instant(rs, "temp_unschedulable_until"),
                instant(rs, "expires_at"),
                rs.getBoolean("auto_pause_on_expired"),
                instant(rs, "last_used_at"),
                links(rs),
                new AccountLimits(
                        rs.getInt("rpm_limit"),
                        rs.getInt("weight"),
                        rs.getObject("quota_threshold_5h", Integer.class),
                        rs.getObject("quota_threshold_7d", Integer.class)));
    }

    private static List<GroupRef> links(ResultSet rs) throws SQLException {
        Long[] ids = (Long[]) rs.getArray("link_ids").getArray();
        String[] names = (String[]) rs.getArray("link_names").getArray();
        List<GroupRef> out = new ArrayList<>(ids.length);
        for (int i = 0; i < ids.length; i++) {
            out.add(new GroupRef(ids[i], names[i]));
        }
        return List.copyOf(out);
    }

    private static String statePredicate(String state) {
        String rl = "(a.rate_limit_reset_at IS NOT NULL AND a.rate_limit_reset_at > p.now)";
        String ov = "(a.overload_until IS NOT NULL AND a.overload_until > p.now)";
        String tu = "(a.temp_unschedulable_until IS NOT NULL AND a.temp_unschedulable_until > p.now)";
        String ex = "(a.auto_pause_on_expired AND a.expires_at IS NOT NULL AND a.expires_at <= p.now)";
        String ok = "(a.status = 'active' AND a.schedulable AND NOT " + rl + " AND NOT " + ov + " AND NOT " + tu
                + " AND NOT " + ex + ")";
        return switch (state.toLowerCase(Locale.ROOT)) {
            case "schedulable" -> ok;
            case "blocked" -> "NOT " + ok;
            case "disabled" -> "NOT a.schedulable";
            case "inactive" -> "a.status <> 'active'";
            case "rate_limited" -> rl;
            case "overloaded" -> ov;
            case "temp_unschedulable" -> tu;
            case "expired" -> ex;
            default -> throw new IllegalArgumentException("state must be one of " + STATES + ", got '" + state + "'");
        };
    }

    @Override
    public List<String> platforms() {
        return read(
                "status page: listing platforms",
                "SELECT platform FROM accounts WHERE deleted_at IS NULL UNION"
                        + " SELECT platform FROM groups WHERE deleted_at IS NULL ORDER BY 1",
                rs -> rs.getString(1));
    }

    @Override
    public List<GroupName> groups() {
        return read(
                "status page: listing groups",
                "SELECT id, name, platform, status FROM groups WHERE deleted_at IS NULL ORDER BY id",
                rs -> new GroupName(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4)));
    }

    @Override
    public void ping() {
        read("probing PostgreSQL", "SELECT 1", rs -> rs.getInt(1));
    }

    private interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    private <T> List<T> read(String action, String sql, RowMapper<T> mapper) {
        try {
            return ReadOnlySnapshot.read(dataSource, c -> {
                List<T> out = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement(sql);
                        ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(mapper.map(rs));
                    }
                }
                return out;
            });
        } catch (SQLException e) {
            throw PgErrors.classify(e, action);
        }
    }

    private static @Nullable Instant instant(ResultSet rs, String col) throws SQLException {
        Timestamp t = rs.getTimestamp(col);
        return t == null ? null : t.toInstant();
    }
}
