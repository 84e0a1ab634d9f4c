package dev.roster.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** Connection pools for Roster's PostgreSQL access. */
public final class Databases {
    private Databases() {}

    /**
     * A Hikari pool for {@code jdbcUrl}. Server error details are kept out of exception messages
     * (they may quote rows, and rows hold credentials).
     *
     * @param poolSize maximum connections, {@code >= 1}
     */
    public static HikariDataSource pool(
            String jdbcUrl, @Nullable String user, @Nullable String password, int poolSize) {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        if (poolSize < 1) {
            throw new IllegalArgumentException("database pool size must be >= 1, got " + poolSize);
        }
        HikariConfig cfg = new HikariConfig();
        cfg.setJdbcUrl(jdbcUrl);
        cfg.setUsername(user);
        cfg.setPassword(password);
        cfg.setMaximumPoolSize(poolSize);
        cfg.setMinimumIdle(Math.min(2, poolSize));
        cfg.setPoolName("roster-pg");
        cfg.setConnectionTimeout(5_000);
        cfg.setInitializationFailTimeout(-1);
        cfg.addDataSourceProperty("logServerErrorDetail", "false");
        cfg.addDataSourceProperty("ApplicationName", "roster");
        return new HikariDataSource(cfg);
    }
}
