package dev.roster.postgres;

import dev.roster.core.Platforms;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * Group administration, each request in one transaction. Bodies are JSON-shaped documents with {@code
 * name}, {@code platform} and {@code status}: {@link #create} needs name and platform ({@code status}
 * defaults to {@value #DEFAULT_STATUS}); {@link #replace} needs all three and refuses a body that omits
 * one, naming it; {@link #patch} is a JSON merge patch (RFC 7396) of the fields it names. A write that
 * changes nothing writes nothing (no event, {@code updated_at} kept).
 *
 * <p>Errors: {@link IllegalArgumentException} naming the field for refused input; {@link
 * dev.roster.core.source.SourceException} when PostgreSQL fails. Thread-safe.
 */
public final class GroupAdmin {
    /** The status of a new group when none is given. */
    public static final String DEFAULT_STATUS = "active";

    private static final List<String> FIELDS = List.of("name", "platform", "status");
    private static final Set<String> KNOWN = Set.copyOf(FIELDS);
    private static final String COLUMNS = "g.id, g.name, g.platform, g.status, (SELECT count(*) FROM account_groups l"
            + " JOIN accounts a ON a.id = l.account_id AND a.deleted_at IS NULL WHERE l.group_id = g.id),"
            + " g.created_at, g.updated_at, g.deleted_at";
    private static final ViewQuery<GroupView> VIEWS =
            new ViewQuery<>(COLUMNS, "groups g", "g", " FOR UPDATE OF g", GroupAdmin::view);

    private final DataSource dataSource;

    /** Administration over {@code dataSource} (a migrated Roster schema). */
    public GroupAdmin(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** Up to {@code limit} groups with ids above {@code after}, by id. */
    public List<GroupView> page(long after, int limit, boolean includeDeleted) {
        return Jdbc.inTransaction(dataSource, "listing groups", c -> VIEWS.page(c, after, limit, includeDeleted));
    }

    /** Group {@code id}, deleted ones too; empty when unknown. */
    public Optional<GroupView> get(long id) {
        return Jdbc.inTransaction(dataSource, "reading group " + id, c -> read(c, id, false));
    }

    /** Creates a group from {@code body}; returns it. */
    public GroupView create(Map<String, ?> body) {
        Fields.requireKnown(body, KNOWN, "");
        Fields.requirePresent(body, List.of("name", "platform"), "a group needs them");
        Map<String, Object> doc = new LinkedHashMap<>(body);
        if (doc.get("status") == null) {
            doc.put("status", DEFAULT_STATUS);
        }
        Values v = Values.of(doc);
        return Jdbc.inTransaction(dataSource, "creating group", c -> {
            long id;
            try (PreparedStatement ps =
                    c.prepareStatement("INSERT INTO groups (name, platform, status) VALUES (?, ?, ?) RETURNING id")) {
                v.bind(ps, 1);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                }
            }
            return read(c, id, false).orElseThrow();
        });
    }

    /** Replaces name, platform and status of live group {@code id}; empty when unknown or deleted. */
    public Optional<GroupView> replace(long id, Map<String, ?> body) {
        Fields.requireKnown(body, KNOWN, "");
        Fields.requirePresent(body, FIELDS, "PUT replaces the whole group; PATCH changes only the fields it names");
        Values v = Values.of(body);
        return write(id, "replacing group " + id, stored -> v);
    }

    /** Applies the JSON merge patch {@code patch} to live group {@code id}; empty when unknown or deleted. */
    public Optional<GroupView> patch(long id, Map<String, ?> patch) {
        Fields.requireKnown(patch, KNOWN, "");
        return write(id, "updating group " + id, stored -> {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("name", stored.name());
            doc.put("platform", stored.platform());
            doc.put("status", stored.status());
            Map<String, Object> merged = MergePatch.applyToObject(doc, patch);
            for (String f : FIELDS) {
                if (!merged.containsKey(f)) {
                    throw new IllegalArgumentException("field " + f + " cannot be removed (null): give a value");
                }
            }
            return Values.of(merged);
        });
    }

    /** Soft-deletes group {@code id}; {@code false} when unknown or already deleted. Links are kept. */
    public boolean delete(long id) {
        return Jdbc.inTransaction(dataSource, "deleting group " + id, c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE groups SET deleted_at = now(), updated_at = now() WHERE id = ? AND deleted_at IS NULL")) {
                ps.setLong(1, id);
                return ps.executeUpdate() == 1;
            }
        });
    }

    /** The validated fields of a group write. */
    private record Values(String name, String platform, String status) {
        static Values of(Map<String, ?> doc) {
            String name = Fields.string(doc, "name");
            String platform = Fields.string(doc, "platform");
            String status = Fields.string(doc, "status");
            if (name.isBlank()) {
                throw new IllegalArgumentException("group name must not be blank");
            }
            Platforms.require(platform);
            if (!GroupRepository.STATUSES.contains(status)) {
                throw new IllegalArgumentException(
                        "group status must be active, inactive or disabled, got '" + clip(status) + "'");
            }
            return new Values(name, platform, status);
        }

        void bind(PreparedStatement ps, int first) throws SQLException {
            ps.setString(first, name);
            ps.setString(first + 1, platform);
            ps.setString(first + 2, status);
        }
    }

    private interface Change {
        Values apply(GroupView stored);
    }

    private Optional<GroupView> write(long id, String action, Change change) {
        return Jdbc.inTransaction(dataSource, action, c -> {
            Optional<GroupView> stored = read(c, id, true);
            if (stored.isEmpty() || stored.get().deletedAt() != null) {
                return Optional.empty();
            }
            Values v = change.apply(stored.get());
            // The distinct guard: a write that changes nothing leaves the row (and updated_at) alone.
            try (PreparedStatement ps = c.prepareStatement("UPDATE groups SET name = ?, platform = ?, status = ?,"
                    + " updated_at = now() WHERE id = ? AND (name, platform, status) IS DISTINCT FROM (?, ?, ?)")) {
                v.bind(ps, 1);
                ps.setLong(4, id);
                v.bind(ps, 5);
                ps.executeUpdate();
            }
            return read(c, id, false);
        });
    }

    private static Optional<GroupView> read(Connection c, long id, boolean lock) throws SQLException {
        return VIEWS.byId(c, id, lock);
    }

    private static GroupView view(ResultSet rs) throws SQLException {
        return new GroupView(
                rs.getLong(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                rs.getLong(5),
                instant(rs.getTimestamp(6)),
                instant(rs.getTimestamp(7)),
                instant(rs.getTimestamp(8)));
    }

    private static @Nullable Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }

    private static String clip(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
