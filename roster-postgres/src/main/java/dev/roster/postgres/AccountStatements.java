package dev.roster.postgres;

import dev.roster.core.AccountLimits;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * The statements that write an account and its links, on the caller's connection and transaction:
 * shared by {@link AccountRepository} and {@link AccountAdmin}, so both write the same way and the
 * capture triggers see the same statements from either.
 */
final class AccountStatements {
    private static final String INSERT = "INSERT INTO accounts (name, platform, type, status, schedulable, priority,"
            + " concurrency, credentials, extra, expires_at, auto_pause_on_expired, rpm_limit, weight,"
            + " quota_threshold_5h, quota_threshold_7d, rate_limit_reset_at, overload_until, temp_unschedulable_until)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";
    private static final String UPDATE_SPEC = "UPDATE accounts SET name = ?, platform = ?, type = ?, status = ?,"
            + " schedulable = ?, priority = ?, concurrency = ?, credentials = ?::jsonb, extra = ?::jsonb,"
            + " expires_at = ?, auto_pause_on_expired = ?, rpm_limit = ?, weight = ?, quota_threshold_5h = ?,"
            + " quota_threshold_7d = ?";
    private static final String SET_BLOCKS =
            ", rate_limit_reset_at = ?, overload_until = ?, temp_unschedulable_until = ?";
    private static final String WHERE_LIVE = ", updated_at = now() WHERE id = ? AND deleted_at IS NULL";

    /**
     * The time blocks an operator may set besides the spec (normally the gateway writes them).
     *
     * @param rateLimitResetAt rate limit end or {@code null}
     * @param overloadUntil overload end or {@code null}
     * @param tempUnschedulableUntil temporary block end or {@code null}
     */
    record Blocks(
            @Nullable Instant rateLimitResetAt,
            @Nullable Instant overloadUntil,
            @Nullable Instant tempUnschedulableUntil) {
        static final Blocks NONE = new Blocks(null, null, null);
    }

    private AccountStatements() {}

    /** Inserts an account; returns its id. */
    static long insert(Connection c, AccountSpec spec, Blocks blocks) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(INSERT)) {
            int i = bindSpec(ps, spec);
            bindBlocks(ps, i, blocks);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * Writes every field of {@code spec} (and of {@code blocks} unless {@code null}) to live account
     * {@code id}; {@code false} when it does not exist or is deleted.
     */
    static boolean update(Connection c, long id, AccountSpec spec, @Nullable Blocks blocks) throws SQLException {
        String sql = UPDATE_SPEC + (blocks == null ? "" : SET_BLOCKS) + WHERE_LIVE;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = bindSpec(ps, spec);
            if (blocks != null) {
                i = bindBlocks(ps, i, blocks);
            }
            ps.setLong(i, id);
            return ps.executeUpdate() == 1;
        }
    }

    /** Locks live account {@code id} (so writes of it and its links serialise); whether it exists. */
    static boolean lockLive(Connection c, long id) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("SELECT 1 FROM accounts WHERE id = ? AND deleted_at IS NULL FOR UPDATE")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * Replaces the account's links with {@code links} (priorities as given). Repeated groups are refused,
     * and so are unknown or deleted ones unless in {@code linked} (the account's links before this write:
     * a group deleted after the link was made keeps its link, as a group's soft delete does), naming them,
     * before anything is written.
     */
    static void replaceLinks(Connection c, long accountId, List<AccountView.Link> links, Set<Long> linked)
            throws SQLException {
        Set<Long> seen = new HashSet<>();
        for (AccountView.Link l : links) {
            if (!seen.add(l.id())) {
                throw new IllegalArgumentException("group " + l.id() + " is listed twice");
            }
        }
        Set<Long> added = new HashSet<>(seen);
        added.removeAll(linked);
        requireGroups(c, List.copyOf(added));
        Long[] ids = links.stream().map(AccountView.Link::id).toArray(Long[]::new);
        Integer[] priorities = links.stream().map(AccountView.Link::priority).toArray(Integer[]::new);
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
            ps.setArray(3, c.createArrayOf("integer", priorities));
            ps.executeUpdate();
        }
    }

    /** Refuses ids of groups that do not exist or are deleted, naming them; locks the others (shared). */
    static void requireGroups(Connection c, List<Long> groupIds) throws SQLException {
        if (groupIds.isEmpty()) {
            return;
        }
        Set<Long> found = new HashSet<>();
        try (PreparedStatement ps =
                c.prepareStatement("SELECT id FROM groups WHERE id = ANY (?) AND deleted_at IS NULL FOR SHARE")) {
            ps.setArray(1, c.createArrayOf("bigint", groupIds.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.add(rs.getLong(1));
                }
            }
        }
        TreeSet<Long> missing = new TreeSet<>(groupIds);
        missing.removeAll(found);
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("group(s) " + missing + " do not exist or are deleted");
        }
    }

    private static int bindSpec(PreparedStatement ps, AccountSpec s) throws SQLException {
        ps.setString(1, s.name());
        ps.setString(2, s.platform());
        ps.setString(3, s.type());
        ps.setString(4, s.status());
        ps.setBoolean(5, s.schedulable());
        ps.setInt(6, s.priority());
        ps.setInt(7, s.concurrency());
        ps.setString(8, Jdbc.json(s.credentials(), "credentials"));
        ps.setString(9, Jdbc.json(s.extra(), "extra"));
        ps.setTimestamp(10, timestamp(s.expiresAt()));
        ps.setBoolean(11, s.autoPauseOnExpired());
        AccountLimits l = s.limits();
        // Unlimited is stored as NULL, so Roster's writes have one spelling of it.
        ps.setObject(12, l.hasRpmLimit() ? l.rpmLimit() : null, Types.INTEGER);
        ps.setInt(13, l.weight());
        ps.setObject(14, l.quotaThreshold5h(), Types.INTEGER);
        ps.setObject(15, l.quotaThreshold7d(), Types.INTEGER);
        return 16;
    }

    private static int bindBlocks(PreparedStatement ps, int first, Blocks b) throws SQLException {
        ps.setTimestamp(first, timestamp(b.rateLimitResetAt()));
        ps.setTimestamp(first + 1, timestamp(b.overloadUntil()));
        ps.setTimestamp(first + 2, timestamp(b.tempUnschedulableUntil()));
        return first + 3;
    }

    static @Nullable Timestamp timestamp(@Nullable Instant i) {
        return i == null ? null : Timestamp.from(i);
    }
}
