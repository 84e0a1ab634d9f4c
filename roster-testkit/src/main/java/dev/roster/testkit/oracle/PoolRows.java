package dev.roster.testkit.oracle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.TreeSet;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * The scheduling tables as raw rows: {@code SELECT *} of {@code accounts}, {@code groups} and {@code
 * account_groups}, read in one repeatable-read transaction so the three are consistent. Columns are
 * read by name, JSON is parsed here (not by the database), and of {@code credentials} only the keys of
 * {@code model_mapping} are kept: the rows may end up in assertion messages, which must never show a
 * secret.
 *
 * @param accounts every account row, soft-deleted ones included
 * @param groups every group row, soft-deleted ones included
 * @param links every link row
 */
public record PoolRows(List<AccountRow> accounts, List<GroupRow> groups, List<LinkRow> links) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public PoolRows {
        accounts = List.copyOf(accounts);
        groups = List.copyOf(groups);
        links = List.copyOf(links);
    }

    /**
     * One {@code accounts} row.
     *
     * @param extra the parsed {@code extra} column
     * @param modelMappingKeys the keys of {@code credentials.model_mapping} when it is an object, else
     *     empty; nothing else of credentials is kept
     * @param rpmLimit the {@code rpm_limit} column ({@code null} or 0: unlimited)
     * @param weight the {@code weight} column
     * @param quotaThreshold5h the {@code quota_threshold_5h} column, {@code null} for the default
     * @param quotaThreshold7d the {@code quota_threshold_7d} column, {@code null} for the default
     */
    public record AccountRow(
            long id,
            String name,
            String platform,
            String type,
            String status,
            boolean schedulable,
            int priority,
            int concurrency,
            JsonNode extra,
            @Nullable Instant rateLimitResetAt,
            @Nullable Instant overloadUntil,
            @Nullable Instant tempUnschedulableUntil,
            @Nullable Instant expiresAt,
            boolean autoPauseOnExpired,
            @Nullable Instant deletedAt,
            List<String> modelMappingKeys,
            @Nullable Integer rpmLimit,
            int weight,
            @Nullable Integer quotaThreshold5h,
            @Nullable Integer quotaThreshold7d) {}

    /** One {@code groups} row. */
    public record GroupRow(
            long id,
            String name,
            String platform,
            String status,
            @Nullable Instant deletedAt) {}

    /** One {@code account_groups} row. */
    public record LinkRow(long accountId, long groupId, int priority) {}

    /** Reads the three tables of {@code dataSource} in one snapshot. */
    public static PoolRows load(DataSource dataSource) {
        try (Connection c = dataSource.getConnection()) {
            return load(c);
        } catch (SQLException e) {
            throw new IllegalStateException("oracle could not read the pool: " + e.getMessage(), e);
        }
    }

    /** Reads the three tables over {@code c} in one repeatable-read, read-only transaction. */
    public static PoolRows load(Connection c) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        int isolation = c.getTransactionIsolation();
        c.setAutoCommit(false);
        c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
        try (Statement st = c.createStatement()) {
            List<AccountRow> accounts = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT * FROM accounts")) {
                while (rs.next()) {
                    accounts.add(new AccountRow(
                            rs.getLong("id"),
                            rs.getString("name"),
                            rs.getString("platform"),
                            rs.getString("type"),
                            rs.getString("status"),
                            rs.getBoolean("schedulable"),
                            rs.getInt("priority"),
                            rs.getInt("concurrency"),
                            parse(rs.getString("extra")),
                            instant(rs, "rate_limit_reset_at"),
                            instant(rs, "overload_until"),
                            instant(rs, "temp_unschedulable_until"),
                            instant(rs, "expires_at"),
                            rs.getBoolean("auto_pause_on_expired"),
                            instant(rs, "deleted_at"),
                            modelMappingKeys(rs.getString("credentials")),
                            rs.getObject("rpm_limit", Integer.class),
                            rs.getInt("weight"),
                            rs.getObject("quota_threshold_5h", Integer.class),
                            rs.getObject("quota_threshold_7d", Integer.class)));
                }
            }
            List<GroupRow> groups = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT * FROM groups")) {
                while (rs.next()) {
                    groups.add(new GroupRow(
                            rs.getLong("id"),
                            rs.getString("name"),
                            rs.getString("platform"),
                            rs.getString("status"),
                            instant(rs, "deleted_at")));
                }
            }
            List<LinkRow> links = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT * FROM account_groups")) {
                while (rs.next()) {
                    links.add(new LinkRow(rs.getLong("account_id"), rs.getLong("group_id"), rs.getInt("priority")));
                }
            }
            c.commit();
            return new PoolRows(accounts, groups, links);
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
            c.setTransactionIsolation(isolation);
        }
    }

    private static @Nullable Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json == null ? "{}" : json);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("oracle could not parse a JSON column: " + e.getMessage(), e);
        }
    }

    private static JsonNode parseSecret(String json) {
        try {
            return JSON.readTree(json == null ? "{}" : json);
        } catch (java.io.IOException e) {
            // The parser's message quotes the input, which holds secrets: say only what failed.
            throw new IllegalStateException("oracle could not parse an account's credentials column");
        }
    }

    /** The keys of {@code model_mapping}; the credential values are dropped here, unread. */
    private static List<String> modelMappingKeys(String credentialsJson) {
        JsonNode mapping = parseSecret(credentialsJson).get("model_mapping");
        if (mapping == null || !mapping.isObject()) {
            return List.of();
        }
        TreeSet<String> keys = new TreeSet<>();
        for (Iterator<String> it = mapping.fieldNames(); it.hasNext(); ) {
            keys.add(it.next());
        }
        return List.copyOf(keys);
    }
}
