package dev.roster.server.app;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.roster.core.source.SourceException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import javax.sql.DataSource;

/**
 * The status page's reads of PostgreSQL: a filtered, counted page of accounts with what decides their
 * schedulability now, the platforms and groups for the filters, and a health probe. Read-only; every
 * filter is a bound parameter, and the page is one statement with {@code count(*) OVER ()}, so 10,000
 * accounts cost one indexed scan per refresh, not 10,000 rows over the wire.
 */
public final class StatusQueries {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<List<Map<String, Object>>> LINKS = new TypeReference<>() {};

    /** State filters of the pool panel. */
    public static final Set<String> STATES = Set.of(
            "schedulable",
            "blocked",
            "disabled",
            "inactive",
            "rate_limited",
            "overloaded",
            "temp_unschedulable",
            "expired");

    private final DataSource ds;

    /** Queries over {@code ds}. */
    public StatusQueries(DataSource ds) {
        this.ds = Objects.requireNonNull(ds, "ds");
    }

    /**
     * The filter of the pool panel.
     *
     * @param query name substring (case-insensitive) or exact id; null for all
     * @param groupId group id; 0 means "in no group"; null for all
     * @param platform platform; null for all
     * @param state one of {@link #STATES}; null for all
     */
    public record Filter(String query, Long groupId, String platform, String state) {}

    /**
     * One account row of the pool panel.
     *
     * @param id id
     * @param name name
     * @param platform platform
     * @param type type
     * @param status status
     * @param schedulable the admin switch
     * @param priority priority
     * @param concurrency slot limit
     * @param rateLimitResetAt rate-limit end
     * @param overloadUntil overload end
     * @param tempUnschedulableUntil temporary block end
     * @param expiresAt expiry
     * @param autoPauseOnExpired whether expiry blocks
     * @param lastUsedAt last use as written behind to PostgreSQL
     * @param groups linked groups: id (as text) and name, by link priority
     */
    public record Row(
            long id,
            String name,
            String platform,
            String type,
            String status,
            boolean schedulable,
            int priority,
            int concurrency,
            Instant rateLimitResetAt,
            Instant overloadUntil,
            Instant tempUnschedulableUntil,
            Instant expiresAt,
            boolean autoPauseOnExpired,
            Instant lastUsedAt,
            List<Map<String, Object>> groups) {}

    /**
     * A page of rows and how many match in all.
     *
     * @param total matching accounts
     * @param rows this page
     */
    public record Page(long total, List<Row> rows) {}

    /**
     * A group for the filters.
     *
     * @param id id
     * @param name name
     * @param platform platform
     * @param status status
     */
    public record GroupName(long id, String name, String platform, String status) {}

    /** The accounts matching {@code f} at {@code now}, by id, {@code limit} from {@code offset}. */
    public Page accounts(Filter f, Instant now, int offset, int limit) {
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
        String sql = "WITH p AS (SELECT ?::timestamptz AS now), m AS ("
                + " SELECT a.*, count(*) OVER () AS total FROM accounts a CROSS JOIN p" + where
                + " ORDER BY a.id LIMIT ? OFFSET ?)"
                + " SELECT m.id, m.name, m.platform, m.type, m.status, m.schedulable, m.priority, m.concurrency,"
                + " m.rate_limit_reset_at, m.overload_until, m.temp_unschedulable_until, m.expires_at,"
                + " m.auto_pause_on_expired, m.last_used_at, m.total,"
                + " COALESCE((SELECT json_agg(json_build_object('id', l.group_id::text, 'name', g.name)"
                + " ORDER BY l.priority, l.group_id)::text FROM account_groups l JOIN groups g ON g.id = l.group_id"
                + " WHERE l.account_id = m.id), '[]') AS links"
                + " FROM m ORDER BY m.id";
        args.add(limit);
        args.add(offset);
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            c.setReadOnly(true);
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            List<Row> rows = new ArrayList<>();
            long total = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    total = rs.getLong("total");
                    rows.add(new Row(
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
                            JSON.readValue(rs.getString("links"), LINKS)));
                }
            }
            if (rows.isEmpty() && offset > 0) {
                // Past the end (the filter narrowed): the count still comes from the first page.
                total = accounts(f, now, 0, 1).total();
            }
            return new Page(total, rows);
        } catch (SQLException e) {
            throw new SourceException("status page: listing accounts failed: " + e.getMessage(), e);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new SourceException("status page: unreadable group links: " + e.getOriginalMessage(), e);
        }
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

    /** The platforms of live accounts and groups, sorted. */
    public List<String> platforms() {
        return strings("SELECT platform FROM accounts WHERE deleted_at IS NULL UNION"
                + " SELECT platform FROM groups WHERE deleted_at IS NULL ORDER BY 1");
    }

    /** Live groups, by id. */
    public List<GroupName> groups() {
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(
                        "SELECT id, name, platform, status FROM groups WHERE deleted_at IS NULL ORDER BY id")) {
            List<GroupName> out = new ArrayList<>();
            while (rs.next()) {
                out.add(new GroupName(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4)));
            }
            return out;
        } catch (SQLException e) {
            throw new SourceException("status page: listing groups failed: " + e.getMessage(), e);
        }
    }

    /** One round trip to PostgreSQL; throws when it fails. */
    public void ping() {
        strings("SELECT 'ok'");
    }

    private List<String> strings(String sql) {
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            List<String> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        } catch (SQLException e) {
            throw new SourceException("status page: query failed: " + e.getMessage(), e);
        }
    }

    private static Instant instant(ResultSet rs, String col) throws SQLException {
        Timestamp t = rs.getTimestamp(col);
        return t == null ? null : t.toInstant();
    }
}
