package dev.roster.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * Writes accounts and their group links. Every write is a plain SQL statement; the capture
 * triggers append the outbox rows in the same transaction, so this class never writes the outbox.
 *
 * <p>Setters return {@code true} when the row changed and {@code false} when it already held the
 * value (no write, no event); they throw {@link IllegalArgumentException} naming the account when
 * it does not exist or is soft-deleted, and for values the schema rejects.
 */
public final class AccountRepository {
    private final DataSource dataSource;

    public AccountRepository(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** Creates an account; returns its id. */
    public long create(AccountSpec spec) {
        return create(spec, List.of());
    }

    /**
     * Creates an account linked to {@code groupIds} (link priorities 1..n in that order), in one
     * transaction; returns its id.
     */
    public long create(AccountSpec spec, List<Long> groupIds) {
        Objects.requireNonNull(spec, "spec");
        return Jdbc.inTransaction(dataSource, "creating account '" + spec.name() + "'", c -> {
            long id = AccountStatements.insert(c, spec, AccountStatements.Blocks.NONE);
            if (!groupIds.isEmpty()) {
                replaceLinks(c, id, groupIds);
            }
            return id;
        });
    }

    /** Replaces every editable field of account {@code id} with {@code spec}. */
    public boolean update(long id, AccountSpec spec) {
        Objects.requireNonNull(spec, "spec");
        return Jdbc.inTransaction(dataSource, "updating account " + id, c -> {
            if (!AccountStatements.update(c, id, spec, null)) {
                throw missing(id);
            }
            return true;
        });
    }

    /** Soft-deletes account {@code id}; {@code false} when it was already deleted. */
    public boolean softDelete(long id) {
        String sql = "UPDATE accounts SET deleted_at = now(), updated_at = now() WHERE id = ? AND deleted_at IS NULL";
        return Jdbc.inTransaction(dataSource, "deleting account " + id, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, id);
                if (ps.executeUpdate() == 1) {
                    return true;
                }
            }
            if (!exists(c, id, false)) {
                throw new IllegalArgumentException("account " + id + " does not exist");
            }
            return false;
        });
    }

    /** Sets the status ({@code active}, {@code error} or {@code disabled}). */
    public boolean setStatus(long id, String status) {
        if (!AccountSpec.STATUSES.contains(status)) {
            throw new IllegalArgumentException(
                    "account status must be active, error or disabled, got '" + status + "'");
        }
        return set(id, "status", status, "text");
    }

    /** Sets the admin switch. */
    public boolean setSchedulable(long id, boolean schedulable) {
        return set(id, "schedulable", schedulable, "boolean");
    }

    /** Sets (or with {@code null} clears) the rate-limit reset time. */
    public boolean setRateLimitResetAt(long id, Instant resetAt) {
        return set(id, "rate_limit_reset_at", timestamp(resetAt), "timestamptz");
    }

    /** Sets (or clears) the overload back-off end. */
    public boolean setOverloadUntil(long id, Instant until) {
        return set(id, "overload_until", timestamp(until), "timestamptz");
    }

    /** Sets (or clears) the temporary unschedulable window end. */
    public boolean setTempUnschedulableUntil(long id, Instant until) {
        return set(id, "temp_unschedulable_until", timestamp(until), "timestamptz");
    }

    /** Sets the priority ({@code >= 0}). */
    public boolean setPriority(long id, int priority) {
        return set(id, "priority", priority, "integer");
    }

    /** Replaces credentials (secrets and {@code model_mapping}). Only a mapping change emits an event. */
    public boolean setCredentials(long id, Map<String, ?> credentials) {
        return set(id, "credentials", Jdbc.json(credentials, "credentials"), "jsonb");
    }

    /** Replaces {@code extra}. Only a {@code mixed_scheduling} change emits an event. */
    public boolean setExtra(long id, Map<String, ?> extra) {
        return set(id, "extra", Jdbc.json(extra, "extra"), "jsonb");
    }

    /**
     * Moves last-used times forward in one statement (never backwards); ids that do not exist are
     * ignored. The capture triggers ignore this column, so no event is written. Returns rows changed.
     */
    public int batchUpdateLastUsed(Map<Long, Instant> lastUsed) {
        if (lastUsed.isEmpty()) {
            return 0;
        }
        String sql = "UPDATE accounts a SET last_used_at = v.t FROM unnest(?::bigint[], ?::timestamptz[]) AS v(id, t)"
                + " WHERE a.id = v.id AND (a.last_used_at IS NULL OR a.last_used_at < v.t)";
        return Jdbc.inTransaction(dataSource, "updating last-used times", c -> {
            Long[] ids = new Long[lastUsed.size()];
            Timestamp[] ts = new Timestamp[lastUsed.size()];
            int i = 0;
            for (Map.Entry<Long, Instant> e : lastUsed.entrySet()) {
                ids[i] = Objects.requireNonNull(e.getKey(), "account id");
                ts[i++] = Timestamp.from(Objects.requireNonNull(e.getValue(), "last-used of " + e.getKey()));
            }
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setArray(1, c.createArrayOf("bigint", ids));
                ps.setArray(2, c.createArrayOf("timestamptz", ts));
                return ps.executeUpdate();
            }
        });
    }

    /** Adds or re-prioritises one link. */
    public void bindGroup(long accountId, long groupId, int priority) {
        String sql = "INSERT INTO account_groups (account_id, group_id, priority) VALUES (?, ?, ?)"
                + " ON CONFLICT (account_id, group_id) DO UPDATE SET priority = EXCLUDED.priority"
                + " WHERE account_groups.priority IS DISTINCT FROM EXCLUDED.priority";
        Jdbc.runInTransaction(dataSource, "linking account " + accountId + " to group " + groupId, c -> {
            requireLive(c, accountId);
            AccountStatements.requireGroups(c, List.of(groupId));
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, accountId);
                ps.setLong(2, groupId);
                ps.setInt(3, priority);
                ps.executeUpdate();
            }
        });
    }

    /** Removes one link; {@code false} when there was none. */
    public boolean unbindGroup(long accountId, long groupId) {
        String sql = "DELETE FROM account_groups WHERE account_id = ? AND group_id = ?";
        return Jdbc.inTransaction(dataSource, "unlinking account " + accountId + " from group " + groupId, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, accountId);
                ps.setLong(2, groupId);
                return ps.executeUpdate() > 0;
            }
        });
    }

    /**
     * Replaces the account's group set with {@code groupIds}, giving the links priorities 1..n in
     * that order. Unknown, deleted or repeated groups are refused, naming them.
     */
    public void replaceGroups(long accountId, List<Long> groupIds) {
        Jdbc.runInTransaction(dataSource, "replacing groups of account " + accountId, c -> {
            requireLive(c, accountId);
            replaceLinks(c, accountId, groupIds);
        });
    }

    private static void replaceLinks(Connection c, long accountId, List<Long> groupIds) throws SQLException {
        List<AccountView.Link> links = new ArrayList<>(groupIds.size());
        for (Long g : groupIds) {
            if (g == null || g <= 0) {
                throw new IllegalArgumentException("group ids must be positive, got " + g);
            }
            links.add(new AccountView.Link(g, links.size() + 1));
        }
        AccountStatements.replaceLinks(c, accountId, links, Set.of());
    }

    private static void requireLive(Connection c, long accountId) throws SQLException {
        // Locks the account so concurrent replacements of its links serialise.
        if (!AccountStatements.lockLive(c, accountId)) {
            throw missing(accountId);
        }
    }

    private boolean set(long id, String column, @Nullable Object value, String sqlType) {
        // The IS DISTINCT FROM guard makes a no-op write touch nothing (not even updated_at).
        String sql = "UPDATE accounts SET " + column + " = ?::" + sqlType + ", updated_at = now()"
                + " WHERE id = ? AND deleted_at IS NULL AND " + column + " IS DISTINCT FROM ?::" + sqlType;
        return Jdbc.inTransaction(dataSource, "setting " + column + " of account " + id, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setObject(1, value);
                ps.setLong(2, id);
                ps.setObject(3, value);
                if (ps.executeUpdate() == 1) {
                    return true;
                }
            }
            if (!exists(c, id, true)) {
                throw missing(id);
            }
            return false;
        });
    }

    private static boolean exists(Connection c, long id, boolean liveOnly) throws SQLException {
        String sql = "SELECT 1 FROM accounts WHERE id = ?" + (liveOnly ? " AND deleted_at IS NULL" : "");
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static IllegalArgumentException missing(long id) {
        return new IllegalArgumentException("account " + id + " does not exist or is deleted");
    }

    private static @Nullable Timestamp timestamp(Instant i) {
        return i == null ? null : Timestamp.from(i);
    }

    /** Ids of the groups account {@code id} is linked to, by link priority (for tests and tools). */
    public List<Long> groupsOf(long id) {
        return Jdbc.inTransaction(dataSource, "reading groups of account " + id, c -> {
            List<Long> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT group_id FROM account_groups WHERE account_id = ? ORDER BY priority, group_id")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getLong(1));
                    }
                }
            }
            return out;
        });
    }
}
