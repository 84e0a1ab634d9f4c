package dev.roster.postgres;

import dev.roster.core.AccountCard;
import dev.roster.core.AccountLimits;
import dev.roster.core.Bucket;
import dev.roster.core.Group0Scope;
import dev.roster.core.GroupLink;
import dev.roster.core.Mode;
import dev.roster.core.Platforms;
import dev.roster.core.RunMode;
import dev.roster.core.outbox.OutboxPosition;
import dev.roster.core.outbox.OutboxRead;
import dev.roster.core.outbox.OutboxSource;
import dev.roster.core.source.BatchRead;
import dev.roster.core.source.GroupInfo;
import dev.roster.core.source.PoolSink;
import dev.roster.core.source.SchedulingSource;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * {@link SchedulingSource} over PostgreSQL. The bucket query's durable part runs in SQL; {@link
 * #loadBucketAt} also runs the time-based part in SQL at a given instant, for audits and for
 * checking that SQL and {@link dev.roster.core.TimeFilter} agree.
 */
public final class PostgresSchedulingSource implements SchedulingSource {
    /**
     * Card columns. Only the keys of {@code credentials.model_mapping} leave the database; the rest
     * of credentials never does. {@code mixed_scheduling} counts only as the JSON boolean true.
     */
    static final String CARD_COLUMNS = cardColumns(
            "ARRAY(SELECT l.group_id FROM account_groups l WHERE l.account_id = a.id ORDER BY l.priority, l.group_id)",
            "ARRAY(SELECT l.priority FROM account_groups l WHERE l.account_id = a.id ORDER BY l.priority, l.group_id)");

    /**
     * Every live card with its links, for the pool load: the links are aggregated once for the whole
     * table and joined, instead of two index probes per account ({@code l} is the aggregate).
     */
    static final String POOL_CARDS = "SELECT " + cardColumns("coalesce(l.gids, '{}')", "coalesce(l.prios, '{}')")
            + " FROM accounts a LEFT JOIN (SELECT account_id,"
            + " array_agg(group_id ORDER BY priority, group_id) AS gids,"
            + " array_agg(priority ORDER BY priority, group_id) AS prios"
            + " FROM account_groups GROUP BY account_id) l ON l.account_id = a.id"
            + " WHERE a.deleted_at IS NULL ORDER BY a.id";

    private static final String POOL_GROUPS =
            "SELECT id, name, platform, status FROM groups WHERE deleted_at IS NULL ORDER BY id";
    private static final String GROUPS_BY_ID =
            "SELECT id, name, platform, status FROM groups WHERE id = ANY (?) AND deleted_at IS NULL ORDER BY id";
    /**
     * The live cards of the accounts among an id array, for a replay batch: the links of those accounts
     * are aggregated in one pass and joined, like {@link #POOL_CARDS}, instead of two index probes per
     * account (a batch names thousands). Both parameters are the same id array.
     */
    private static final String CARDS_BY_ID =
            "SELECT " + cardColumns("coalesce(l.gids, '{}')", "coalesce(l.prios, '{}')")
                    + " FROM accounts a LEFT JOIN (SELECT account_id,"
                    + " array_agg(group_id ORDER BY priority, group_id) AS gids,"
                    + " array_agg(priority ORDER BY priority, group_id) AS prios"
                    + " FROM account_groups WHERE account_id = ANY (?) GROUP BY account_id) l ON l.account_id = a.id"
                    + " WHERE a.id = ANY (?) AND a.deleted_at IS NULL ORDER BY a.id";

    /**
     * The supported models of account {@code a}: the keys of {@code credentials.model_mapping}, sorted
     * (empty when it is absent or not an object). The only part of credentials that leaves the database.
     */
    static final String SUPPORTED_MODELS = "CASE WHEN jsonb_typeof(a.credentials -> 'model_mapping') = 'object'"
            + " THEN ARRAY(SELECT k FROM jsonb_object_keys(a.credentials -> 'model_mapping') k ORDER BY k)"
            + " ELSE '{}'::text[] END";

    /** The card columns in {@link #card}'s order, with the two link arrays given as expressions. */
    private static String cardColumns(String linkGroupIds, String linkPriorities) {
        return "a.id, a.name, a.platform, a.type, a.status, a.schedulable, a.priority,"
                + " a.concurrency, a.rate_limit_reset_at, a.overload_until, a.temp_unschedulable_until, a.expires_at,"
                + " a.auto_pause_on_expired,"
                + " coalesce(a.extra -> 'mixed_scheduling' = 'true'::jsonb, false),"
                + SUPPORTED_MODELS + ", " + linkGroupIds + ", " + linkPriorities + ", a.updated_at,"
                + " coalesce(a.rpm_limit, 0), a.weight, a.quota_threshold_5h, a.quota_threshold_7d";
    }

    /** Rows per round trip when streaming every card. */
    private static final int CARD_FETCH_SIZE = 1000;

    private final DataSource dataSource;
    private final PostgresOutbox outbox;

    public PostgresSchedulingSource(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.outbox = new PostgresOutbox(dataSource);
    }

    @Override
    public List<AccountCard> loadBucket(Bucket bucket, RunMode runMode, Group0Scope group0Scope) {
        return query(bucket, runMode, group0Scope, null);
    }

    /**
     * The full bucket query Q(bucket, now) in SQL: the durable part plus the time-based blocks
     * judged at {@code now}. Equal to {@code TimeFilter.apply(loadBucket(...), now)} by design.
     */
    public List<AccountCard> loadBucketAt(Bucket bucket, RunMode runMode, Group0Scope group0Scope, Instant now) {
        return query(bucket, runMode, group0Scope, Objects.requireNonNull(now, "now"));
    }

    private List<AccountCard> query(Bucket bucket, RunMode runMode, Group0Scope scope, @Nullable Instant now) {
        Objects.requireNonNull(bucket, "bucket");
        Objects.requireNonNull(runMode, "runMode");
        Objects.requireNonNull(scope, "group0Scope");
        boolean simple = runMode == RunMode.SIMPLE;
        long group = simple ? 0 : bucket.groupId();
        Group0Scope effectiveScope = simple ? Group0Scope.ALL : scope;
        StringBuilder sql = new StringBuilder("SELECT ").append(CARD_COLUMNS).append(" FROM accounts a");
        if (group > 0) {
            sql.append(" JOIN account_groups ag ON ag.account_id = a.id AND ag.group_id = ?")
                    .append(" JOIN groups g ON g.id = ag.group_id AND g.status = 'active' AND g.deleted_at IS NULL");
        }
        sql.append(" WHERE a.deleted_at IS NULL AND a.status = 'active' AND a.schedulable AND (a.platform = ?");
        if (bucket.mode() == Mode.MIXED) {
            sql.append(" OR (a.platform = '")
                    .append(Platforms.ANTIGRAVITY)
                    .append("' AND a.extra -> 'mixed_scheduling' = 'true'::jsonb)");
        }
        sql.append(')');
        if (group == 0 && effectiveScope == Group0Scope.UNGROUPED) {
            sql.append(" AND NOT EXISTS (SELECT 1 FROM account_groups x WHERE x.account_id = a.id)");
        }
        if (now != null) {
            sql.append(" AND (a.rate_limit_reset_at IS NULL OR a.rate_limit_reset_at <= ?)")
                    .append(" AND (a.overload_until IS NULL OR a.overload_until <= ?)")
                    .append(" AND (a.temp_unschedulable_until IS NULL OR a.temp_unschedulable_until <= ?)")
                    .append(" AND NOT (a.auto_pause_on_expired AND a.expires_at IS NOT NULL AND a.expires_at <= ?)");
        }
        sql.append(group > 0 ? " ORDER BY ag.priority, a.priority, a.id" : " ORDER BY a.priority, a.id");
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql.toString())) {
            int i = 1;
            if (group > 0) {
                ps.setLong(i++, group);
            }
            ps.setString(i++, bucket.platform());
            if (now != null) {
                Timestamp t = Timestamp.from(now);
                for (int k = 0; k < 4; k++) {
                    ps.setTimestamp(i++, t);
                }
            }
            List<AccountCard> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(card(rs));
                }
            }
            return List.copyOf(out);
        } catch (SQLException e) {
            throw PgErrors.classify(e, "loading bucket " + bucket);
        }
    }

    @Override
    public Map<Long, AccountCard> loadCards(Collection<Long> ids) {
        if (ids.isEmpty()) {
            return Map.of();
        }
        try (Connection c = dataSource.getConnection()) {
            return cards(c, ids);
        } catch (SQLException e) {
            throw PgErrors.classify(e, "loading account cards");
        }
    }

    private static Map<Long, AccountCard> cards(Connection c, Collection<Long> ids) throws SQLException {
        if (ids.isEmpty()) {
            return Map.of();
        }
        try (PreparedStatement ps = c.prepareStatement(CARDS_BY_ID)) {
            java.sql.Array array = c.createArrayOf("bigint", new TreeSet<>(ids).toArray());
            ps.setArray(1, array);
            ps.setArray(2, array);
            Map<Long, AccountCard> out = new LinkedHashMap<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    AccountCard card = card(rs);
                    out.put(card.id(), card);
                }
            }
            return Collections.unmodifiableMap(out);
        }
    }

    private static Map<Long, GroupInfo> groups(Connection c, Collection<Long> ids) throws SQLException {
        if (ids.isEmpty()) {
            return Map.of();
        }
        try (PreparedStatement ps = c.prepareStatement(GROUPS_BY_ID)) {
            ps.setArray(1, c.createArrayOf("bigint", new TreeSet<>(ids).toArray()));
            Map<Long, GroupInfo> out = new LinkedHashMap<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    GroupInfo g = group(rs);
                    out.put(g.id(), g);
                }
            }
            return Collections.unmodifiableMap(out);
        }
    }

    /**
     * One {@code REPEATABLE READ READ ONLY} transaction: the horizon of its snapshot first, then every
     * live group, then every live card streamed in id order, links aggregated in bulk.
     */
    @Override
    public long loadPool(PoolSink sink) {
        Objects.requireNonNull(sink, "sink");
        try {
            return ReadOnlySnapshot.read(dataSource, c -> {
                long horizon;
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_snapshot_xmin(pg_current_snapshot())::text");
                        ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    horizon = Long.parseUnsignedLong(rs.getString(1));
                }
                try (PreparedStatement ps = c.prepareStatement(POOL_GROUPS)) {
                    ps.setFetchSize(CARD_FETCH_SIZE);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            sink.group(group(rs));
                        }
                    }
                }
                try (PreparedStatement ps = c.prepareStatement(POOL_CARDS)) {
                    ps.setFetchSize(CARD_FETCH_SIZE);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            sink.account(card(rs));
                        }
                    }
                }
                return horizon;
            });
        } catch (SQLException e) {
            throw PgErrors.classify(e, "loading the scheduling pool");
        }
    }

    /**
     * One {@code REPEATABLE READ READ ONLY} transaction: the outbox read first (its statement takes the
     * snapshot, so the horizon is the rows' too), then the named accounts' cards, then the named groups.
     */
    @Override
    public BatchRead readBatch(long watermark, Set<Long> excludedIds, @Nullable OutboxPosition after, int limit) {
        Objects.requireNonNull(excludedIds, "excludedIds");
        PostgresOutbox.requireLimit(limit);
        try {
            return ReadOnlySnapshot.read(dataSource, c -> {
                OutboxRead read = outbox.read(c, watermark, excludedIds, after, limit);
                Map<Long, AccountCard> accounts = cards(c, SchedulingSource.namedAccounts(read.events()));
                Map<Long, GroupInfo> groups = groups(c, SchedulingSource.namedGroups(read.events()));
                return new BatchRead(read, accounts, groups);
            });
        } catch (SQLException e) {
            throw PgErrors.classify(e, "reading an outbox batch and its rows");
        }
    }

    @Override
    public void loadAllCards(Consumer<? super AccountCard> sink) {
        Objects.requireNonNull(sink, "sink");
        String sql = "SELECT " + CARD_COLUMNS + " FROM accounts a WHERE a.deleted_at IS NULL ORDER BY a.id";
        try (Connection c = dataSource.getConnection()) {
            // The driver streams rows (fetch size) only inside a transaction; a single statement reads
            // one snapshot, so the cards agree with each other.
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setFetchSize(CARD_FETCH_SIZE);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        sink.accept(card(rs));
                    }
                }
            } finally {
                c.rollback();
                c.setAutoCommit(autoCommit);
            }
        } catch (SQLException e) {
            throw PgErrors.classify(e, "loading all account cards");
        }
    }

    @Override
    public List<GroupInfo> activeGroups() {
        String sql = "SELECT id, name, platform, status FROM groups WHERE status = 'active' AND deleted_at IS NULL"
                + " ORDER BY id";
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql);
                ResultSet rs = ps.executeQuery()) {
            List<GroupInfo> out = new ArrayList<>();
            while (rs.next()) {
                out.add(group(rs));
            }
            return List.copyOf(out);
        } catch (SQLException e) {
            throw PgErrors.classify(e, "listing active groups");
        }
    }

    @Override
    public Set<String> platforms() {
        String sql = "SELECT platform FROM accounts WHERE deleted_at IS NULL"
                + " UNION SELECT platform FROM groups WHERE deleted_at IS NULL";
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql);
                ResultSet rs = ps.executeQuery()) {
            TreeSet<String> out = new TreeSet<>();
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return Collections.unmodifiableSortedSet(out);
        } catch (SQLException e) {
            throw PgErrors.classify(e, "listing platforms");
        }
    }

    @Override
    public Instant databaseNow() {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT now()");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getTimestamp(1).toInstant();
        } catch (SQLException e) {
            throw PgErrors.classify(e, "reading the database clock");
        }
    }

    @Override
    public OutboxSource outbox() {
        return outbox;
    }

    static AccountCard card(ResultSet rs) throws SQLException {
        List<String> models = new ArrayList<>();
        Array m = rs.getArray(15);
        for (Object o : (Object[]) m.getArray()) {
            models.add((String) o);
        }
        Object[] gids = (Object[]) rs.getArray(16).getArray();
        Object[] prios = (Object[]) rs.getArray(17).getArray();
        List<GroupLink> links = new ArrayList<>(gids.length);
        for (int k = 0; k < gids.length; k++) {
            links.add(new GroupLink(((Number) gids[k]).longValue(), ((Number) prios[k]).intValue()));
        }
        return new AccountCard(
                rs.getLong(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                rs.getString(5),
                rs.getBoolean(6),
                rs.getInt(7),
                rs.getInt(8),
                instant(rs.getTimestamp(9)),
                instant(rs.getTimestamp(10)),
                instant(rs.getTimestamp(11)),
                instant(rs.getTimestamp(12)),
                rs.getBoolean(13),
                rs.getBoolean(14),
                models,
                links,
                instant(rs.getTimestamp(18)),
                new AccountLimits(rs.getInt(19), rs.getInt(20), integerOrNull(rs, 21), integerOrNull(rs, 22)));
    }

    private static @Nullable Integer integerOrNull(ResultSet rs, int column) throws SQLException {
        int v = rs.getInt(column);
        return rs.wasNull() ? null : v;
    }

    private static GroupInfo group(ResultSet rs) throws SQLException {
        return new GroupInfo(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4));
    }

    private static @Nullable Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
