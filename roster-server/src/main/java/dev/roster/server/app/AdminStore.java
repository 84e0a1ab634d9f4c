package dev.roster.server.app;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.roster.core.Platforms;
import dev.roster.core.source.SourceException;
import dev.roster.postgres.AccountSpec;
import dev.roster.postgres.GroupRepository;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import javax.sql.DataSource;

/**
 * The admin API's view of accounts and groups in PostgreSQL: pages, single rows, writes. Every write
 * is a plain statement the capture triggers turn into outbox events, exactly like any other client's
 * writes; nothing here touches the projection. Credentials are written but never read back: the
 * row shapes below have no credentials field, only whether some are set.
 */
public final class AdminStore {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ACCOUNT_COLUMNS = "a.id, a.name, a.platform, a.type, a.status, a.schedulable,"
            + " a.priority, a.concurrency, a.credentials <> '{}'::jsonb,"
            + " COALESCE((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(CASE WHEN jsonb_typeof("
            + "a.credentials->'model_mapping') = 'object' THEN a.credentials->'model_mapping' ELSE '{}'::jsonb END) k),"
            + " '{}'::text[]), a.extra::text, a.rate_limit_reset_at, a.overload_until, a.temp_unschedulable_until,"
            + " a.expires_at, a.auto_pause_on_expired, a.last_used_at, a.created_at, a.updated_at, a.deleted_at,"
            + " COALESCE((SELECT json_agg(json_build_object('id', l.group_id::text, 'priority', l.priority)"
            + " ORDER BY l.priority, l.group_id)::text FROM account_groups l WHERE l.account_id = a.id), '[]')";

    private final DataSource ds;

    /** A store over {@code ds}. */
    public AdminStore(DataSource ds) {
        this.ds = Objects.requireNonNull(ds, "ds");
    }

    /**
     * An account as the admin API shows it.
     *
     * @param id id
     * @param name name
     * @param platform platform
     * @param type type
     * @param status status
     * @param schedulable admin switch
     * @param priority priority
     * @param concurrency slot limit
     * @param credentialsSet whether any credentials are stored (they are never returned)
     * @param supportedModels keys of credentials.model_mapping
     * @param extra the extra flags object
     * @param rateLimitResetAt rate limit end
     * @param overloadUntil overload end
     * @param tempUnschedulableUntil temporary block end
     * @param expiresAt expiry
     * @param autoPauseOnExpired whether expiry blocks
     * @param lastUsedAt last use written behind to PostgreSQL
     * @param createdAt creation
     * @param updatedAt last change
     * @param deletedAt soft deletion
     * @param groups links: id and priority
     */
    public record Account(
            long id,
            String name,
            String platform,
            String type,
            String status,
            boolean schedulable,
            int priority,
            int concurrency,
            boolean credentialsSet,
            List<String> supportedModels,
            Map<String, Object> extra,
            Instant rateLimitResetAt,
            Instant overloadUntil,
            Instant tempUnschedulableUntil,
            Instant expiresAt,
            boolean autoPauseOnExpired,
            Instant lastUsedAt,
            Instant createdAt,
            Instant updatedAt,
            Instant deletedAt,
            List<Link> groups) {}

    /**
     * A link of an account to a group.
     *
     * @param id group id
     * @param priority link priority (smaller first)
     */
    public record Link(long id, int priority) {}

    /**
     * A group.
     *
     * @param id id
     * @param name name
     * @param platform platform
     * @param status status
     * @param members linked accounts (not deleted)
     * @param createdAt creation
     * @param updatedAt last change
     * @param deletedAt soft deletion
     */
    public record Group(
            long id,
            String name,
            String platform,
            String status,
            long members,
            Instant createdAt,
            Instant updatedAt,
            Instant deletedAt) {}

    /**
     * The time blocks an operator may set besides the spec (they are normally written by the gateway).
     *
     * @param rateLimitResetAt rate limit end or null
     * @param overloadUntil overload end or null
     * @param tempUnschedulableUntil temporary block end or null
     */
    public record Blocks(Instant rateLimitResetAt, Instant overloadUntil, Instant tempUnschedulableUntil) {
        /** No blocks. */
        public static final Blocks NONE = new Blocks(null, null, null);
    }

    /** A page of accounts with ids above {@code after}, by id. */
    public List<Account> accounts(long after, int limit, boolean includeDeleted) {
        String sql = "SELECT " + ACCOUNT_COLUMNS + " FROM accounts a WHERE a.id > ?"
                + (includeDeleted ? "" : " AND a.deleted_at IS NULL") + " ORDER BY a.id LIMIT ?";
        return tx("listing accounts", c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, after);
                ps.setInt(2, limit);
                List<Account> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(account(rs));
                    }
                }
                return out;
            }
        });
    }

    /** One account (deleted ones too), or empty. */
    public Optional<Account> account(long id) {
        return tx("reading account " + id, c -> readAccount(c, id));
    }

    /** Creates an account with blocks and links; returns it. */
    public Account createAccount(AccountSpec spec, Blocks blocks, List<Link> links) {
        return tx("creating account '" + spec.name() + "'", c -> {
            long id;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO accounts (name, platform, type, status,"
                    + " schedulable, priority, concurrency, credentials, extra, expires_at, auto_pause_on_expired,"
                    + " rate_limit_reset_at, overload_until, temp_unschedulable_until)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?, ?, ?) RETURNING id")) {
                bind(ps, spec, blocks, true);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                }
            }
            replaceLinks(c, id, links);
            return readAccount(c, id).orElseThrow();
        });
    }

    /**
     * Replaces the editable fields of account {@code id}; {@code spec.credentials()} empty and {@code
     * keepCredentials} keeps the stored ones (clients need not resend secrets). Empty when unknown or
     * deleted.
     */
    public Optional<Account> updateAccount(long id, AccountSpec spec, Blocks blocks, boolean keepCredentials) {
        return tx("updating account " + id, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE accounts SET name = ?, platform = ?, type = ?,"
                    + " status = ?, schedulable = ?, priority = ?, concurrency = ?,"
                    + " credentials = COALESCE(?::jsonb, credentials), extra = ?::jsonb, expires_at = ?,"
                    + " auto_pause_on_expired = ?, rate_limit_reset_at = ?, overload_until = ?,"
                    + " temp_unschedulable_until = ?, updated_at = now() WHERE id = ? AND deleted_at IS NULL")) {
                bind(ps, spec, blocks, !keepCredentials);
                ps.setLong(15, id);
                if (ps.executeUpdate() == 0) {
                    return Optional.empty();
                }
            }
            return readAccount(c, id);
        });
    }

    /** Soft-deletes; {@code false} when unknown or already deleted. */
    public boolean deleteAccount(long id) {
        return tx("deleting account " + id, c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE accounts SET deleted_at = now(), updated_at = now() WHERE id = ? AND deleted_at IS NULL")) {
                ps.setLong(1, id);
                return ps.executeUpdate() == 1;
            }
        });
    }

    /** Replaces the account's links with {@code links} (priorities as given); empty when unknown. */
    public Optional<Account> setGroups(long id, List<Link> links) {
        return tx("replacing groups of account " + id, c -> {
            try (PreparedStatement ps =
                    c.prepareStatement("SELECT 1 FROM accounts WHERE id = ? AND deleted_at IS NULL FOR UPDATE")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                }
            }
            replaceLinks(c, id, links);
            return readAccount(c, id);
        });
    }

    /** Groups with ids above {@code after}. */
    public List<Group> groups(long after, int limit, boolean includeDeleted) {
        String sql = "SELECT g.id, g.name, g.platform, g.status, (SELECT count(*) FROM account_groups l JOIN accounts a"
                + " ON a.id = l.account_id AND a.deleted_at IS NULL WHERE l.group_id = g.id), g.created_at, g.updated_at,"
                + " g.deleted_at FROM groups g WHERE g.id > ?" + (includeDeleted ? "" : " AND g.deleted_at IS NULL")
                + " ORDER BY g.id LIMIT ?";
        return tx("listing groups", c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, after);
                ps.setInt(2, limit);
                List<Group> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(group(rs));
                    }
                }
                return out;
            }
        });
    }

    /** One group, or empty. */
    public Optional<Group> group(long id) {
        return tx("reading group " + id, c -> readGroup(c, id));
    }

    /** Creates a group. */
    public Group createGroup(String name, String platform, String status) {
        validateGroup(name, platform, status);
        return tx("creating group '" + name + "'", c -> {
            long id;
            try (PreparedStatement ps =
                    c.prepareStatement("INSERT INTO groups (name, platform, status) VALUES (?, ?, ?) RETURNING id")) {
                ps.setString(1, name);
                ps.setString(2, platform);
                ps.setString(3, status);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                }
            }
            return readGroup(c, id).orElseThrow();
        });
    }

    /** Replaces name, platform and status; empty when unknown or deleted. */
    public Optional<Group> updateGroup(long id, String name, String platform, String status) {
        validateGroup(name, platform, status);
        return tx("updating group " + id, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE groups SET name = ?, platform = ?, status = ?,"
                    + " updated_at = now() WHERE id = ? AND deleted_at IS NULL"
                    + " AND (name, platform, status) IS DISTINCT FROM (?, ?, ?)")) {
                ps.setString(1, name);
                ps.setString(2, platform);
                ps.setString(3, status);
                ps.setLong(4, id);
                ps.setString(5, name);
                ps.setString(6, platform);
                ps.setString(7, status);
                ps.executeUpdate();
            }
            return readGroup(c, id).filter(g -> g.deletedAt() == null);
        });
    }

    /** Soft-deletes a group; {@code false} when unknown or already deleted. */
    public boolean deleteGroup(long id) {
        return tx("deleting group " + id, c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE groups SET deleted_at = now(), updated_at = now() WHERE id = ? AND deleted_at IS NULL")) {
                ps.setLong(1, id);
                return ps.executeUpdate() == 1;
            }
        });
    }

    private static void validateGroup(String name, String platform, String status) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("group name must not be blank");
        }
        Platforms.require(platform);
        if (!GroupRepository.STATUSES.contains(status)) {
            throw new IllegalArgumentException(
                    "group status must be active, inactive or disabled, got '" + status + "'");
        }
    }

    private static void replaceLinks(Connection c, long accountId, List<Link> links) throws SQLException {
        Set<Long> seen = new HashSet<>();
        for (Link l : links) {
            if (l.id() <= 0) {
                throw new IllegalArgumentException("group ids must be positive, got " + l.id());
            }
            if (l.priority() < 0) {
                throw new IllegalArgumentException("link priority must not be negative, got " + l.priority());
            }
            if (!seen.add(l.id())) {
                throw new IllegalArgumentException("group " + l.id() + " is listed twice");
            }
        }
        if (!seen.isEmpty()) {
            Set<Long> found = new HashSet<>();
            try (PreparedStatement ps =
                    c.prepareStatement("SELECT id FROM groups WHERE id = ANY (?) AND deleted_at IS NULL FOR SHARE")) {
                ps.setArray(1, c.createArrayOf("bigint", seen.toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        found.add(rs.getLong(1));
                    }
                }
            }
            TreeSet<Long> missing = new TreeSet<>(seen);
            missing.removeAll(found);
            if (!missing.isEmpty()) {
                throw new IllegalArgumentException("group(s) " + missing + " do not exist or are deleted");
            }
        }
        Long[] ids = links.stream().map(Link::id).toArray(Long[]::new);
        Integer[] prios = links.stream().map(Link::priority).toArray(Integer[]::new);
        try (PreparedStatement del =
                c.prepareStatement("DELETE FROM account_groups WHERE account_id = ? AND NOT (group_id = ANY (?))")) {
            del.setLong(1, accountId);
            del.setArray(2, c.createArrayOf("bigint", ids));
            del.executeUpdate();
        }
        if (ids.length == 0) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO account_groups (account_id, group_id, priority)"
                + " SELECT ?, g.id, g.p FROM unnest(?::bigint[], ?::int[]) AS g(id, p)"
                + " ON CONFLICT (account_id, group_id) DO UPDATE SET priority = EXCLUDED.priority"
                + " WHERE account_groups.priority IS DISTINCT FROM EXCLUDED.priority")) {
            ps.setLong(1, accountId);
            ps.setArray(2, c.createArrayOf("bigint", ids));
            ps.setArray(3, c.createArrayOf("integer", prios));
            ps.executeUpdate();
        }
    }

    private static void bind(PreparedStatement ps, AccountSpec s, Blocks b, boolean writeCredentials)
            throws SQLException {
        ps.setString(1, s.name());
        ps.setString(2, s.platform());
        ps.setString(3, s.type());
        ps.setString(4, s.status());
        ps.setBoolean(5, s.schedulable());
        ps.setInt(6, s.priority());
        ps.setInt(7, s.concurrency());
        if (writeCredentials) {
            ps.setString(8, json(s.credentials(), "credentials"));
        } else {
            ps.setNull(8, Types.VARCHAR);
        }
        ps.setString(9, json(s.extra(), "extra"));
        ps.setTimestamp(10, ts(s.expiresAt()));
        ps.setBoolean(11, s.autoPauseOnExpired());
        ps.setTimestamp(12, ts(b.rateLimitResetAt()));
        ps.setTimestamp(13, ts(b.overloadUntil()));
        ps.setTimestamp(14, ts(b.tempUnschedulableUntil()));
    }

    private static String json(Map<String, ?> v, String what) {
        try {
            return JSON.writeValueAsString(v);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(what + " cannot be written as JSON");
        }
    }

    private static Timestamp ts(Instant i) {
        return i == null ? null : Timestamp.from(i);
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }

    private static Optional<Account> readAccount(Connection c, long id) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("SELECT " + ACCOUNT_COLUMNS + " FROM accounts a WHERE a.id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(account(rs)) : Optional.empty();
            }
        }
    }

    private static Optional<Group> readGroup(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT g.id, g.name, g.platform, g.status, (SELECT count(*)"
                + " FROM account_groups l JOIN accounts a ON a.id = l.account_id AND a.deleted_at IS NULL"
                + " WHERE l.group_id = g.id), g.created_at, g.updated_at, g.deleted_at FROM groups g WHERE g.id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(group(rs)) : Optional.empty();
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Account account(ResultSet rs) throws SQLException {
        List<String> models = List.of((String[]) rs.getArray(10).getArray());
        Map<String, Object> extra;
        List<Link> links = new ArrayList<>();
        try {
            extra = JSON.readValue(rs.getString(11), LinkedHashMap.class);
            for (Map<String, Object> l : (List<Map<String, Object>>) JSON.readValue(rs.getString(21), List.class)) {
                links.add(
                        new Link(Long.parseLong(String.valueOf(l.get("id"))), ((Number) l.get("priority")).intValue()));
            }
        } catch (JsonProcessingException e) {
            throw new SourceException("unreadable account row " + rs.getLong(1), e);
        }
        return new Account(
                rs.getLong(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                rs.getString(5),
                rs.getBoolean(6),
                rs.getInt(7),
                rs.getInt(8),
                rs.getBoolean(9),
                models,
                extra,
                instant(rs.getTimestamp(12)),
                instant(rs.getTimestamp(13)),
                instant(rs.getTimestamp(14)),
                instant(rs.getTimestamp(15)),
                rs.getBoolean(16),
                instant(rs.getTimestamp(17)),
                instant(rs.getTimestamp(18)),
                instant(rs.getTimestamp(19)),
                instant(rs.getTimestamp(20)),
                links);
    }

    private static Group group(ResultSet rs) throws SQLException {
        return new Group(
                rs.getLong(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                rs.getLong(5),
                instant(rs.getTimestamp(6)),
                instant(rs.getTimestamp(7)),
                instant(rs.getTimestamp(8)));
    }

    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T tx(String action, Work<T> work) {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                T v = work.run(c);
                c.commit();
                return v;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw translate(e, action);
        }
    }

    /** Constraint violations are the client's fault (400); anything else is the store's (503). */
    private static RuntimeException translate(SQLException e, String action) {
        String state = e.getSQLState();
        if (state != null && (state.startsWith("23") || state.startsWith("22"))) {
            String constraint = e instanceof org.postgresql.util.PSQLException p && p.getServerErrorMessage() != null
                    ? p.getServerErrorMessage().getConstraint()
                    : null;
            return new IllegalArgumentException(action + ": "
                    + (constraint != null ? constraint.replace('_', ' ') : "invalid value [" + state + "]"));
        }
        return new SourceException(action + " failed" + (state == null ? "" : " [" + state + "]"), e);
    }
}
