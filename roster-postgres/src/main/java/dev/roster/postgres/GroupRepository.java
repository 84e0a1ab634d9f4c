package dev.roster.postgres;

import dev.roster.core.Platforms;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Objects;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Writes groups. The capture triggers emit {@code group_changed} for creation, deletion and changes
 * of status or platform (a rename emits nothing: no bucket reads names).
 */
public final class GroupRepository {
    /** Statuses a group may have; only {@code active} groups have non-empty buckets. */
    public static final Set<String> STATUSES = Set.of("active", "inactive", "disabled");

    private final DataSource dataSource;

    public GroupRepository(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** Creates an active group; returns its id. */
    public long create(String name, String platform) {
        requireName(name);
        Platforms.require(platform);
        return Jdbc.inTransaction(dataSource, "creating group '" + name + "'", c -> {
            try (PreparedStatement ps =
                    c.prepareStatement("INSERT INTO groups (name, platform) VALUES (?, ?) RETURNING id")) {
                ps.setString(1, name);
                ps.setString(2, platform);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    /** Renames group {@code id} and sets its platform. */
    public boolean update(long id, String name, String platform) {
        requireName(name);
        Platforms.require(platform);
        return write(
                id,
                "UPDATE groups SET name = ?, platform = ?, updated_at = now() WHERE id = ? AND deleted_at IS NULL"
                        + " AND (name, platform) IS DISTINCT FROM (?, ?)",
                name,
                platform);
    }

    /** Sets the status ({@code active}, {@code inactive} or {@code disabled}). */
    public boolean setStatus(long id, String status) {
        if (!STATUSES.contains(status)) {
            throw new IllegalArgumentException(
                    "group status must be active, inactive or disabled, got '" + status + "'");
        }
        return write(
                id,
                "UPDATE groups SET status = ?, updated_at = now() WHERE id = ? AND deleted_at IS NULL"
                        + " AND status IS DISTINCT FROM ?",
                status);
    }

    /** Soft-deletes group {@code id}; its buckets become empty. Links are kept. */
    public boolean softDelete(long id) {
        return write(
                id, "UPDATE groups SET deleted_at = now(), updated_at = now() WHERE id = ? AND deleted_at IS NULL");
    }

    /** Binds the parameters as: values..., id, values again (for the distinct guard). */
    private boolean write(long id, String sql, String... values) {
        return Jdbc.inTransaction(dataSource, "updating group " + id, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                for (String v : values) {
                    ps.setString(i++, v);
                }
                ps.setLong(i++, id);
                for (String v : values) {
                    ps.setString(i++, v);
                }
                if (ps.executeUpdate() == 1) {
                    return true;
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT deleted_at IS NULL FROM groups WHERE id = ?")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new IllegalArgumentException("group " + id + " does not exist");
                    }
                    if (!rs.getBoolean(1) && values.length > 0) {
                        throw new IllegalArgumentException("group " + id + " is deleted");
                    }
                }
            }
            return false;
        });
    }

    private static void requireName(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("group name must not be blank");
        }
    }
}
