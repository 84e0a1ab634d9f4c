package dev.roster.postgres;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.roster.core.source.SourceException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * Account administration: pages, single accounts and every write an operator makes, each request in
 * one transaction (a write that is refused changes nothing). Writes are plain statements the capture
 * triggers turn into outbox events, like any other client's.
 *
 * <p>Bodies are JSON-shaped documents ({@code Map}s of plain values, snake_case names): {@code name},
 * {@code platform}, {@code type}, {@code status}, {@code schedulable}, {@code priority}, {@code
 * concurrency}, {@code extra} (object), {@code expires_at}, {@code auto_pause_on_expired}, {@code
 * rate_limit_reset_at}, {@code overload_until}, {@code temp_unschedulable_until} (RFC 3339 text or
 * {@link Instant}, or {@code null}), {@code groups} (array of {@code {id, priority}}, priority default
 * {@value AccountView.Link#DEFAULT_PRIORITY}), {@code rpm_limit} (0..1,000,000 or {@code null}: unlimited),
 * {@code weight} (1..1000, default 1), {@code quota_threshold_5h} and {@code quota_threshold_7d} (used-% 1..100
 * or {@code null}: the configured default), and the write-only {@code credentials} (object).
 *
 * <ul>
 *   <li>{@link #create}: {@code name}, {@code platform}, {@code type} required; the rest defaults
 *       ({@link AccountSpec#DEFAULT_STATUS}, schedulable, {@link AccountSpec#DEFAULT_PRIORITY}, {@link
 *       AccountSpec#DEFAULT_CONCURRENCY}, no blocks, no links).
 *   <li>{@link #replace}: every field except credentials must be present; a missing one is refused,
 *       naming it, instead of taking a default.
 *   <li>{@link #patch}: a JSON merge patch (RFC 7396): named fields change, {@code null} removes (a
 *       nullable field becomes {@code null}, {@code extra} and {@code groups} empty; a required field
 *       cannot be removed), objects ({@code extra}) merge, arrays ({@code groups}) are replaced.
 *   <li>Credentials, in every write that names them, are merged into the stored object by the same
 *       rule (a key set to {@code null} is deleted, {@code model_mapping} merges key by key), so
 *       rotating a secret keeps {@code model_mapping} and editing the mapping needs no secret. {@link
 *       #replaceModelMapping} replaces the mapping whole.
 * </ul>
 *
 * <p>Errors: {@link IllegalArgumentException} naming the field or rule for input the schema or these
 * rules refuse; {@link SourceException} when PostgreSQL fails. Neither ever carries a credential.
 * Credentials are never returned: {@link AccountView} shows only whether some are set and the keys of
 * {@code model_mapping}. Thread-safe.
 */
public final class AccountAdmin {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, Object>> OBJECT = new TypeReference<>() {};
    private static final String COLUMNS = "a.id, a.name, a.platform, a.type, a.status, a.schedulable, a.priority,"
            + " a.concurrency, a.credentials <> '{}'::jsonb, " + PostgresSchedulingSource.SUPPORTED_MODELS + ","
            + " a.extra::text, a.rate_limit_reset_at, a.overload_until, a.temp_unschedulable_until, a.expires_at,"
            + " a.auto_pause_on_expired, a.last_used_at, a.created_at, a.updated_at, a.deleted_at,"
            + " ARRAY(SELECT l.group_id FROM account_groups l WHERE l.account_id = a.id ORDER BY l.priority, l.group_id),"
            + " ARRAY(SELECT l.priority FROM account_groups l WHERE l.account_id = a.id ORDER BY l.priority, l.group_id),"
            + " nullif(a.rpm_limit, 0), a.weight, a.quota_threshold_5h, a.quota_threshold_7d";
    private static final String MODEL_MAPPING = "model_mapping";
    private static final ViewQuery<AccountView> VIEWS =
            new ViewQuery<>(COLUMNS, "accounts a", "a", " FOR UPDATE", AccountAdmin::view);

    private final DataSource dataSource;

    /** Administration over {@code dataSource} (a migrated Roster schema). */
    public AccountAdmin(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** Up to {@code limit} accounts with ids above {@code after}, by id. */
    public List<AccountView> page(long after, int limit, boolean includeDeleted) {
        return Jdbc.inTransaction(dataSource, "listing accounts", c -> VIEWS.page(c, after, limit, includeDeleted));
    }

    /** Account {@code id}, deleted ones too; empty when unknown. */
    public Optional<AccountView> get(long id) {
        return Jdbc.inTransaction(dataSource, "reading account " + id, c -> read(c, id, false));
    }

    /** Creates an account with its blocks and links from {@code body}; returns it. */
    public AccountView create(Map<String, ?> body) {
        AccountDocument.Write w = AccountDocument.forCreate(Objects.requireNonNull(body, "body"));
        return Jdbc.inTransaction(dataSource, "creating account", c -> {
            long id = AccountStatements.insert(c, w.spec(), w.blocks());
            AccountStatements.replaceLinks(c, id, w.links(), Set.of());
            return read(c, id, false).orElseThrow();
        });
    }

    /**
     * Replaces every field of live account {@code id} with {@code body}, which must name each of them;
     * credentials, when given, are merged into the stored ones. Empty when unknown or deleted.
     */
    public Optional<AccountView> replace(long id, Map<String, ?> body) {
        Objects.requireNonNull(body, "body");
        // Refused before any read: a body without every field is wrong whatever is stored.
        AccountDocument.forReplace(body, Map.of());
        return write(
                id,
                "replacing account " + id,
                (stored, credentials) -> AccountDocument.forReplace(body, mergeCredentials(credentials, body)));
    }

    /**
     * Applies the JSON merge patch {@code patch} to live account {@code id} (credentials merged into the
     * stored ones). Empty when unknown or deleted.
     */
    public Optional<AccountView> patch(long id, Map<String, ?> patch) {
        Objects.requireNonNull(patch, "patch");
        Fields.requireKnown(patch, AccountDocument.WRITABLE, "");
        return write(id, "updating account " + id, (stored, credentials) -> {
            Map<String, Object> fields = new LinkedHashMap<>(patch);
            fields.remove(AccountDocument.CREDENTIALS);
            Map<String, Object> doc = MergePatch.applyToObject(AccountDocument.of(stored), fields);
            return AccountDocument.forPatched(doc, mergeCredentials(credentials, patch));
        });
    }

    /**
     * Replaces {@code credentials.model_mapping} of live account {@code id} with {@code mapping} (an
     * empty one removes it: every model is then supported), leaving every other credential as stored.
     * Empty when unknown or deleted.
     */
    public Optional<AccountView> replaceModelMapping(long id, Map<String, ?> mapping) {
        Objects.requireNonNull(mapping, "mapping");
        return write(id, "replacing the model mapping of account " + id, (stored, credentials) -> {
            Map<String, Object> merged = new LinkedHashMap<>(credentials);
            if (mapping.isEmpty()) {
                merged.remove(MODEL_MAPPING);
            } else {
                merged.put(MODEL_MAPPING, mapping);
            }
            Map<String, Object> doc = AccountDocument.of(stored);
            return AccountDocument.forPatched(doc, merged);
        });
    }

    /** Soft-deletes account {@code id}; {@code false} when unknown or already deleted. */
    public boolean delete(long id) {
        return Jdbc.inTransaction(dataSource, "deleting account " + id, c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE accounts SET deleted_at = now(), updated_at = now() WHERE id = ? AND deleted_at IS NULL")) {
                ps.setLong(1, id);
                return ps.executeUpdate() == 1;
            }
        });
    }

    /** Replaces the links of live account {@code id} with {@code links}; empty when unknown or deleted. */
    public Optional<AccountView> replaceGroups(long id, List<AccountView.Link> links) {
        List<AccountView.Link> copy = List.copyOf(links);
        return Jdbc.inTransaction(dataSource, "replacing groups of account " + id, c -> {
            Optional<AccountView> stored = read(c, id, true);
            if (stored.isEmpty() || stored.get().deletedAt() != null) {
                return Optional.empty();
            }
            AccountStatements.replaceLinks(c, id, copy, linkedGroups(stored.get()));
            return read(c, id, false);
        });
    }

    /** Works out the write from the stored account and its stored credentials. */
    private interface Change {
        AccountDocument.Write apply(AccountView stored, Map<String, Object> credentials);
    }

    /** Reads and locks the account, works out the write and makes it, all in one transaction. */
    private Optional<AccountView> write(long id, String action, Change change) {
        return Jdbc.inTransaction(dataSource, action, c -> {
            Optional<AccountView> stored = read(c, id, true);
            if (stored.isEmpty() || stored.get().deletedAt() != null) {
                return Optional.empty();
            }
            AccountDocument.Write w = change.apply(stored.get(), credentials(c, id));
            AccountStatements.update(c, id, w.spec(), w.blocks());
            AccountStatements.replaceLinks(c, id, w.links(), linkedGroups(stored.get()));
            return read(c, id, false);
        });
    }

    private static Set<Long> linkedGroups(AccountView a) {
        Set<Long> ids = new HashSet<>();
        a.groups().forEach(l -> ids.add(l.id()));
        return ids;
    }

    /** The stored credentials with the body's {@code credentials} (if any) merged in. */
    private static Map<String, Object> mergeCredentials(Map<String, Object> stored, Map<String, ?> body) {
        if (!body.containsKey(AccountDocument.CREDENTIALS)) {
            return stored;
        }
        Object given = body.get(AccountDocument.CREDENTIALS);
        if (given == null) {
            return Map.of(); // a merge patch's null removes the member: every stored credential
        }
        if (!(given instanceof Map<?, ?> patch)) {
            throw new IllegalArgumentException("field credentials must be a JSON object");
        }
        @SuppressWarnings("unchecked")
        Map<String, ?> object = (Map<String, ?>) patch; // JSON object keys are strings
        return MergePatch.applyToObject(stored, object);
    }

    private static Map<String, Object> credentials(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT credentials::text FROM accounts WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return JSON.readValue(rs.getString(1), OBJECT);
            } catch (JsonProcessingException e) {
                // Never the parser's message: it may quote the stored secret.
                throw new SourceException("stored credentials of account " + id + " are not a JSON object");
            }
        }
    }

    private static Optional<AccountView> read(Connection c, long id, boolean lock) throws SQLException {
        return VIEWS.byId(c, id, lock);
    }

    private static AccountView view(ResultSet rs) throws SQLException {
        long id = rs.getLong(1);
        Map<String, Object> extra;
        try {
            extra = JSON.readValue(rs.getString(11), OBJECT);
        } catch (JsonProcessingException e) {
            throw new SourceException("extra of account " + id + " is not a JSON object");
        }
        Long[] groupIds = (Long[]) rs.getArray(21).getArray();
        Integer[] priorities = (Integer[]) rs.getArray(22).getArray();
        List<AccountView.Link> links = new ArrayList<>(groupIds.length);
        for (int i = 0; i < groupIds.length; i++) {
            links.add(new AccountView.Link(groupIds[i], priorities[i]));
        }
        return new AccountView(
                id,
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                rs.getString(5),
                rs.getBoolean(6),
                rs.getInt(7),
                rs.getInt(8),
                rs.getBoolean(9),
                List.of((String[]) rs.getArray(10).getArray()),
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
                List.copyOf(links),
                rs.getObject(23, Integer.class),
                rs.getInt(24),
                rs.getObject(25, Integer.class),
                rs.getObject(26, Integer.class));
    }

    private static @Nullable Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
