package dev.roster.postgres;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import javax.sql.DataSource;

/** Small JDBC helpers shared by the repositories. */
final class Jdbc {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Jdbc() {}

    static String json(Map<String, ?> value, String what) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(what + " cannot be written as JSON: " + e.getOriginalMessage());
        }
    }

    /** Work run in one transaction. */
    interface TxWork<T> {
        T run(Connection c) throws SQLException;
    }

    /** Work run in one transaction that answers nothing. */
    interface TxAction {
        void run(Connection c) throws SQLException;
    }

    /** {@link #inTransaction} for work that answers nothing. */
    static void runInTransaction(DataSource ds, String action, TxAction work) {
        inTransaction(ds, action, c -> {
            work.run(c);
            return Boolean.TRUE;
        });
    }

    /** {@link #inSourceTransaction} for work that answers nothing. */
    static void runInSourceTransaction(DataSource ds, String action, TxAction work) {
        inSourceTransaction(ds, action, c -> {
            work.run(c);
            return Boolean.TRUE;
        });
    }

    /**
     * Runs {@code work}, a write of a caller's input, in one transaction on a pooled connection;
     * constraint errors name the rule ({@link PgErrors#translate}).
     */
    static <T> T inTransaction(DataSource ds, String action, TxWork<T> work) {
        try {
            return run(ds, work);
        } catch (SQLException e) {
            throw PgErrors.translate(e, action);
        }
    }

    /**
     * Runs {@code work}, Roster's own write, in one transaction on a pooled connection; a failure is an
     * outage or a defect ({@link PgErrors#classify}), never the caller's fault.
     */
    static <T> T inSourceTransaction(DataSource ds, String action, TxWork<T> work) {
        try {
            return run(ds, work);
        } catch (SQLException e) {
            throw PgErrors.classify(e, action);
        }
    }

    private static <T> T run(DataSource ds, TxWork<T> work) throws SQLException {
        try (Connection c = ds.getConnection()) {
            boolean auto = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            } finally {
                c.setAutoCommit(auto);
            }
        }
    }
}
