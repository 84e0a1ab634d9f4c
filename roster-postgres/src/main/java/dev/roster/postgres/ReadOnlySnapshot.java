package dev.roster.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/**
 * Runs several statements on one connection inside one {@code REPEATABLE READ READ ONLY} transaction,
 * so that they all read the snapshot the first of them takes. The transaction is always rolled back
 * (it wrote nothing) and the connection's auto-commit restored before it goes back to the pool.
 */
final class ReadOnlySnapshot {
    /** Statements that read one snapshot. */
    interface Reads<T> {
        T run(Connection c) throws SQLException;
    }

    private ReadOnlySnapshot() {}

    static <T> T read(DataSource dataSource, Reads<T> reads) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            T result;
            try {
                // Before any query: the snapshot is taken by the first statement after this one.
                try (Statement st = c.createStatement()) {
                    st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                }
                result = reads.run(c);
            } catch (SQLException | RuntimeException | Error e) {
                try {
                    c.rollback();
                    c.setAutoCommit(autoCommit);
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
            c.rollback();
            c.setAutoCommit(autoCommit);
            return result;
        }
    }
}
