package dev.roster.testkit;

import dev.roster.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * One real PostgreSQL 17 server per test JVM, started on first use and stopped by a shutdown hook.
 * Each test class takes its own database with {@link #newDatabase(String)}, so classes never see each
 * other's rows. The fault controls act on the server process and therefore affect every database of
 * this JVM; a test that uses them should restore the server before it ends. Pause and partition act
 * on one database's own proxy ({@link #newProxiedDatabase(String)}) and affect nobody else.
 *
 * <p>The JDBC driver is not a dependency of the test kit: callers have it on their class path.
 */
public final class PostgresHarness {
    private static volatile @Nullable PostgresHarness shared;

    private final EmbeddedPostgres server;
    private final Path root;
    private final AtomicInteger counter = new AtomicInteger();

    private PostgresHarness() {
        try {
            root = Files.createTempDirectory("roster-test-pg");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server = EmbeddedPostgres.builder(root.resolve("data"))
                .ephemeral()
                .build()
                .start();
        Runtime.getRuntime().addShutdownHook(new Thread(this::shutdown, "roster-test-pg-stop"));
    }

    /** The server of this JVM, started on first call. */
    public static PostgresHarness shared() {
        PostgresHarness h = shared;
        if (h == null) {
            synchronized (PostgresHarness.class) {
                h = shared;
                if (h == null) {
                    h = new PostgresHarness();
                    shared = h;
                }
            }
        }
        return h;
    }

    /** The server, for fault controls ({@code stop}, {@code kill}, {@code start}, {@code restart}). */
    public EmbeddedPostgres server() {
        return server;
    }

    /** Stops the server (fast shutdown: clients are disconnected). */
    public void stop() {
        server.stop();
    }

    /** Kills the server with SIGKILL. */
    public void kill() {
        server.kill();
    }

    /** Starts the server again on the same port and data. */
    public void start() {
        server.start();
    }

    /** Stops and starts the server. */
    public void restart() {
        server.restart();
    }

    /**
     * Creates a fresh, empty database whose name starts with {@code hint} (letters, digits and
     * underscores are kept), owned by the superuser.
     */
    public TestDatabase newDatabase(String hint) {
        String clean = hint == null ? "db" : hint.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        if (clean.length() > 40) {
            clean = clean.substring(clean.length() - 40);
        }
        String name = "t" + counter.incrementAndGet() + "_" + clean;
        try (Connection c = DriverManager.getConnection(server.jdbcUrl("postgres"), server.user(), "");
                Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE \"" + name + "\"");
        } catch (SQLException e) {
            throw new IllegalStateException("could not create test database " + name + ": " + e.getMessage(), e);
        }
        return new TestDatabase(server.jdbcUrl(name), server.user(), "", name, server.port());
    }

    /**
     * Like {@link #newDatabase(String)}, but reached through a {@link TcpProxy} of its own, so that a
     * test can pause or partition this database's connections without touching other classes'. The
     * proxy is closed by the shutdown hook or by {@link ProxiedDatabase#close()}.
     */
    public ProxiedDatabase newProxiedDatabase(String hint) {
        TestDatabase direct = newDatabase(hint);
        TcpProxy proxy = TcpProxy.start("127.0.0.1", server.port());
        String url = "jdbc:postgresql://" + proxy.host() + ":" + proxy.port() + "/" + direct.name();
        TestDatabase viaProxy = new TestDatabase(url, direct.user(), direct.password(), direct.name(), proxy.port());
        return new ProxiedDatabase(viaProxy, direct, proxy);
    }

    private void shutdown() {
        try {
            server.stop();
        } finally {
            try (Stream<Path> walk = Files.walk(root)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // A temp folder left behind is harmless.
            }
        }
    }

    /**
     * A test database reached through its own proxy.
     *
     * @param db the database as seen through the proxy (use this in the code under test)
     * @param direct the same database reached directly (for the test's own checks during a fault)
     * @param proxy the proxy's fault controls
     */
    public record ProxiedDatabase(TestDatabase db, TestDatabase direct, TcpProxy proxy) implements AutoCloseable {
        @Override
        public void close() {
            proxy.close();
        }
    }

    /**
     * A database of the shared test server.
     *
     * @param jdbcUrl JDBC URL
     * @param user user name
     * @param password password (empty: trust auth)
     * @param name database name
     * @param port server port
     */
    public record TestDatabase(String jdbcUrl, String user, String password, String name, int port) {
        /** Opens a new connection (auto-commit on). */
        public Connection connect() throws SQLException {
            return DriverManager.getConnection(jdbcUrl, user, password);
        }
    }
}
