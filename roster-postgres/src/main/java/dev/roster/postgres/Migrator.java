package dev.roster.postgres;

import com.zaxxer.hikari.HikariDataSource;
import dev.roster.core.source.SourceException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Applies Roster's schema migrations (tables, constraints and the capture triggers) with Flyway,
 * keeping the history in {@value #HISTORY_TABLE}.
 *
 * <p>A schema that already holds any of Roster's tables but no Roster history is refused: such a
 * database belongs to someone else (an existing sub2api, say), and adopting it must be an explicit
 * step, never a side effect of starting Roster. There is deliberately no baseline-on-migrate.
 */
public final class Migrator {
    /** Name of Roster's migration history table. */
    public static final String HISTORY_TABLE = "roster_schema_history";

    /** Tables whose presence without history marks a foreign database. */
    static final List<String> OWN_TABLES = List.of(
            "accounts", "groups", "account_groups", "scheduler_outbox", "scheduler_outbox_dead_letter", "roster_state");

    private final DataSource dataSource;
    private final String schema;

    /** A migrator for the {@code public} schema. */
    public Migrator(DataSource dataSource) {
        this(dataSource, "public");
    }

    /** A migrator for {@code schema}. */
    public Migrator(DataSource dataSource, String schema) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.schema = Objects.requireNonNull(schema, "schema");
    }

    /**
     * Brings the {@code public} schema of the database at {@code jdbcUrl} up to date over a connection
     * pool of its own, closed afterwards (for a command that needs nothing else of the database).
     *
     * @see #migrate()
     */
    public static Result migrate(String jdbcUrl, String user, String password) {
        try (HikariDataSource ds = Databases.pool(jdbcUrl, user, password, 2)) {
            return new Migrator(ds).migrate();
        }
    }

    /**
     * Brings the schema up to date.
     *
     * @return the outcome (migrations applied, resulting version)
     * @throws IllegalStateException when the schema holds Roster's tables without Roster's history,
     *     naming the tables found
     * @throws SourceException when the database cannot be reached or a migration fails
     */
    public Result migrate() {
        List<String> foreign = foreignTables();
        if (!foreign.isEmpty()) {
            throw new IllegalStateException("refusing to migrate schema '" + schema + "': it already holds "
                    + String.join(", ", foreign) + " but no Roster migration history (" + HISTORY_TABLE
                    + "). Roster does not adopt an existing database implicitly; use a fresh database or "
                    + "schema, or adopt this one with an explicit, reviewed step.");
        }
        try {
            MigrateResult r = Flyway.configure(Migrator.class.getClassLoader())
                    .dataSource(dataSource)
                    .schemas(schema)
                    .defaultSchema(schema)
                    .table(HISTORY_TABLE)
                    .locations("classpath:db/roster/migration")
                    .baselineOnMigrate(false)
                    .cleanDisabled(true)
                    .load()
                    .migrate();
            return new Result(
                    r.migrationsExecuted,
                    r.targetSchemaVersion != null ? r.targetSchemaVersion : r.initialSchemaVersion);
        } catch (FlywayException e) {
            throw new SourceException("migrating schema '" + schema + "' failed: " + e.getMessage(), e);
        }
    }

    private List<String> foreignTables() {
        String sql = "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = ? AND c.relkind IN ('r', 'p') AND c.relname = ANY (?) ORDER BY c.relname";
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            List<String> names = new ArrayList<>(OWN_TABLES);
            names.add(HISTORY_TABLE);
            ps.setString(1, schema);
            ps.setArray(2, c.createArrayOf("text", names.toArray()));
            List<String> found = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.add(rs.getString(1));
                }
            }
            if (found.contains(HISTORY_TABLE)) {
                return List.of();
            }
            return found;
        } catch (SQLException e) {
            throw new SourceException("could not inspect schema '" + schema + "': " + e.getMessage(), e);
        }
    }

    /**
     * What a migration run did.
     *
     * @param applied migrations applied by this run
     * @param version schema version now, or {@code null} for an empty history
     */
    public record Result(int applied, String version) {}
}
