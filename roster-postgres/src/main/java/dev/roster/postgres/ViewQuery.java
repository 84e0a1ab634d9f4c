package dev.roster.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The reads of one admin view ({@link AccountAdmin}, {@link GroupAdmin}): one row by id, optionally
 * locked for the write that follows, or a page of rows in id order after a key (keyset paging, so a
 * page costs the same however far the listing has gone). Deleted rows are in a page only when asked
 * for; a read by id sees them always, since an admin may look at what was deleted. Runs on the
 * caller's connection, inside its transaction.
 *
 * @param <T> the view a row becomes
 */
final class ViewQuery<T> {
    /** Turns the current row of a result into the view. */
    @FunctionalInterface
    interface RowView<T> {
        T view(ResultSet rs) throws SQLException;
    }

    private final String select;
    private final String alias;
    private final String lock;
    private final RowView<T> view;

    /**
     * @param columns the select list, qualified by {@code alias}
     * @param table the table and its alias, e.g. {@code "accounts a"}
     * @param alias the alias the columns and the id and deleted_at conditions use
     * @param lock the locking clause of a read for update, e.g. {@code " FOR UPDATE"}
     * @param view turns a row into the view
     */
    ViewQuery(String columns, String table, String alias, String lock, RowView<T> view) {
        this.select = "SELECT " + columns + " FROM " + table;
        this.alias = alias;
        this.lock = lock;
        this.view = view;
    }

    /** Up to {@code limit} rows with ids above {@code after}, by id. */
    List<T> page(Connection c, long after, int limit, boolean includeDeleted) throws SQLException {
        String sql = select + " WHERE " + alias + ".id > ?"
                + (includeDeleted ? "" : " AND " + alias + ".deleted_at IS NULL") + " ORDER BY " + alias
                + ".id LIMIT ?";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, after);
            ps.setInt(2, limit);
            List<T> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(view.view(rs));
                }
            }
            return out;
        }
    }

    /** Row {@code id}, deleted or not, locked until the transaction ends when {@code forUpdate}. */
    Optional<T> byId(Connection c, long id, boolean forUpdate) throws SQLException {
        String sql = select + " WHERE " + alias + ".id = ?" + (forUpdate ? lock : "");
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(view.view(rs)) : Optional.empty();
            }
        }
    }
}
