package dev.roster.testkit;

import dev.roster.embedded.EmbeddedRedis;
import dev.roster.embedded.RespConnection;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * One standalone Redis per test JVM, started lazily from the embedded binary on first use and
 * stopped by a JVM shutdown hook, reached through a {@link TcpProxy} so tests can pause or partition
 * the network.
 *
 * <p>Usage, with static accessors rather than an extension (so any test, fixture or benchmark can
 * use it):
 *
 * <pre>{@code
 * RedisHarness redis = RedisHarness.shared();
 * String uri = redis.uri();                        // redis://127.0.0.1:<proxy port>
 * String prefix = redis.keyPrefix(MyTest.class);   // unique per call: isolates test classes
 * redis.partition(); ... redis.heal();             // network faults through the proxy
 * redis.restart();                                 // process faults (same port, same data dir)
 * }</pre>
 *
 * <p>Isolation is by key prefix: every call to {@link #keyPrefix} returns a new one, so test classes
 * (and tests inside them, if they ask per test) never see each other's keys. Fault controls act on the
 * one shared server: a test that injects a fault must undo it (e.g. in {@code @AfterEach}: {@link
 * #heal()}, {@link #resume()}, {@link #start()}). Surefire runs test classes one after another, so that
 * is enough.
 */
public final class RedisHarness {
    private static final AtomicLong PREFIXES = new AtomicLong();

    private final EmbeddedRedis server;
    private final TcpProxy proxy;

    private RedisHarness() {
        server = EmbeddedRedis.builder()
                .dataDir(TempDirs.create("roster-redis-"))
                .config("maxmemory", "512mb")
                .build();
        server.start();
        proxy = TcpProxy.start(server.host(), server.port());
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            proxy.close();
                            server.kill();
                        },
                        "redis-harness-stop"));
    }

    private static final class Holder {
        static final RedisHarness INSTANCE = new RedisHarness();
    }

    /** The JVM's shared harness, started on first call. */
    public static RedisHarness shared() {
        return Holder.INSTANCE;
    }

    /** {@code redis://host:port} of the proxy: use this for the code under test. */
    public String uri() {
        return "redis://" + proxy.host() + ":" + proxy.port();
    }

    /** {@code redis://host:port} of the server itself, bypassing the proxy (for inspection). */
    public String directUri() {
        return server.uri();
    }

    /** The proxy's host. */
    public String host() {
        return proxy.host();
    }

    /** The proxy's port. */
    public int port() {
        return proxy.port();
    }

    /** The server's own port. */
    public int directPort() {
        return server.port();
    }

    /**
     * A key prefix no other caller in this JVM gets, naming the test class for readability, e.g.
     * {@code t12-ProjectionTest:}. Contains no hash-tag braces.
     */
    public String keyPrefix(Class<?> testClass) {
        return "t" + PREFIXES.incrementAndGet() + "-"
                + testClass.getSimpleName().replaceAll("[^A-Za-z0-9_]", "_") + ":";
    }

    /** A raw connection straight to the server (not through the proxy); close it after use. */
    public RespConnection connect() {
        return RespConnection.open(server.host(), server.port(), Duration.ofSeconds(5));
    }

    /** Runs a command straight on the server. */
    public @Nullable Object command(String... args) {
        try (RespConnection c = connect()) {
            return c.command(args);
        }
    }

    /** Deletes every key of every test (FLUSHALL on the server). */
    public void flushAll() {
        command("FLUSHALL");
    }

    /** Stops the server gracefully; clients see connection errors until {@link #start()}. */
    public void stop() {
        server.stop();
    }

    /** Kills the server with SIGKILL. */
    public void kill() {
        server.kill();
    }

    /** Starts the server again on the same port and data directory (no-op if running). */
    public void start() {
        server.start();
    }

    /** Stops and starts the server. The harness keeps no persistence, so the data set is empty after. */
    public void restart() {
        server.stop();
        server.start();
    }

    /** Whether the server process is running. */
    public boolean isRunning() {
        return server.isRunning();
    }

    /** Stops forwarding bytes (connections stay open). */
    public void pause() {
        proxy.pause();
    }

    /** Forwards bytes again. */
    public void resume() {
        proxy.resume();
    }

    /** Drops all connections and black-holes new ones. */
    public void partition() {
        proxy.partition();
    }

    /** Ends a partition. */
    public void heal() {
        proxy.heal();
    }

    /** The proxy, for finer control. */
    public TcpProxy proxy() {
        return proxy;
    }
}
