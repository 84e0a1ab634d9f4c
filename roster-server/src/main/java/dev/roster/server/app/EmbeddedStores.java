package dev.roster.server.app;

import dev.roster.embedded.EmbeddedPostgres;
import dev.roster.embedded.EmbeddedRedis;
import dev.roster.server.config.RosterConfig;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The embedded default (docs/architecture.md, "The embedded default"): for each store that is not configured, a real
 * server on a free loopback port with its data in {@code embedded.data_dir} (kept across restarts). {@link #resolved}
 * returns the configuration pointing at them; {@link #close()} stops them.
 */
public final class EmbeddedStores implements AutoCloseable {
    private final @Nullable EmbeddedPostgres postgres;
    private final @Nullable EmbeddedRedis redis;
    private final RosterConfig resolved;

    private EmbeddedStores(@Nullable EmbeddedPostgres postgres, @Nullable EmbeddedRedis redis, RosterConfig resolved) {
        this.postgres = postgres;
        this.redis = redis;
        this.resolved = resolved;
    }

    /**
     * Starts what {@code config} leaves unconfigured and says so on {@code out}, one line per server.
     *
     * @param ephemeral throw-away data (the demo): no fsync, no Redis persistence
     */
    public static EmbeddedStores start(RosterConfig config, PrintWriter out, boolean ephemeral) {
        return start(
                config,
                line -> {
                    out.println(line);
                    out.flush();
                },
                ephemeral);
    }

    /** As {@link #start(RosterConfig, PrintWriter, boolean)} with a line sink. */
    public static EmbeddedStores start(RosterConfig config, Consumer<String> out, boolean ephemeral) {
        return start(config, out, ephemeral, true);
    }

    /** As above; {@code withRedis = false} starts only PostgreSQL (for {@code roster migrate}). */
    public static EmbeddedStores start(
            RosterConfig config, Consumer<String> out, boolean ephemeral, boolean withRedis) {
        Path dir = config.embedded().dataDir().toAbsolutePath().normalize();
        EmbeddedPostgres pg = null;
        EmbeddedRedis rd = null;
        RosterConfig.Database db = config.database();
        RosterConfig.Redis r = config.redis();
        try {
            if (db.embedded()) {
                Files.createDirectories(dir);
                EmbeddedPostgres.Builder b = EmbeddedPostgres.builder(dir.resolve("postgres"));
                if (ephemeral) {
                    b.ephemeral();
                }
                pg = b.build().start();
                db = db.at(pg.jdbcUrl("postgres"), pg.user());
                out.accept("roster: embedded PostgreSQL " + EmbeddedPostgres.MAJOR_VERSION + " on 127.0.0.1:"
                        + pg.port() + ", data in " + dir.resolve("postgres"));
            }
            if (r.embedded() && withRedis) {
                Files.createDirectories(dir);
                rd = EmbeddedRedis.builder()
                        .dataDir(dir.resolve("redis"))
                        .persistent(!ephemeral)
                        // serve stops Redis in close(), after releasing its leases; the demo keeps the reaper for
                        // Ctrl-C
                        .reapOnExit(ephemeral)
                        .build();
                rd.start();
                r = r.at(rd.uri());
                out.accept("roster: embedded Redis " + EmbeddedRedis.REDIS_VERSION + " on " + rd.host() + ":"
                        + rd.port() + ", data in " + dir.resolve("redis"));
            }
        } catch (java.io.IOException | RuntimeException e) {
            if (rd != null) {
                rd.close();
            }
            if (pg != null) {
                pg.close();
            }
            throw new IllegalStateException(
                    "could not start the embedded servers in " + dir + ": " + e.getMessage(), e);
        }
        RosterConfig resolved =
                new RosterConfig(db, r, config.server(), config.embedded(), config.service(), config.watch());
        return new EmbeddedStores(pg, rd, resolved);
    }

    /** The configuration with the embedded servers filled in. */
    public RosterConfig resolved() {
        return resolved;
    }

    /** The embedded PostgreSQL, or {@code null} when PostgreSQL is configured. */
    public @Nullable EmbeddedPostgres postgres() {
        return postgres;
    }

    /** The embedded Redis, or {@code null} when Redis is configured. */
    public @Nullable EmbeddedRedis redis() {
        return redis;
    }

    /** Stops the embedded servers (Redis first, then PostgreSQL); data stays. */
    @Override
    public void close() {
        if (redis != null) {
            redis.close();
        }
        if (postgres != null) {
            postgres.close();
        }
    }
}
