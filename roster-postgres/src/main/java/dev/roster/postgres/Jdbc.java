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

    /** Runs {@code work} in one transaction on a pooled connection; constraint errors name the rule. */
    static <T> T inTransaction(DataSource ds, String action, TxWork<T> work) {
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
        } catch (SQLException e) {
            throw PgErrors.translate(e, action);
        }
    }
}
