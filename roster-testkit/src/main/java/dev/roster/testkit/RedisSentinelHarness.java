package dev.roster.testkit;

import static org.awaitility.Awaitility.await;

import dev.roster.embedded.EmbeddedRedis;
import dev.roster.embedded.RespConnection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One Redis master and one Sentinel monitoring it (quorum 1) per test JVM, from embedded processes;
 * {@link #shared()} returns once the Sentinel reports the master's address. Stopped by a JVM shutdown
 * hook.
 *
 * <pre>{@code
 * RedisSentinelHarness s = RedisSentinelHarness.shared();
 * String uri = s.uri();   // redis-sentinel://127.0.0.1:<sentinel port>?master=roster-master
 * }</pre>
 */
public final class RedisSentinelHarness {
    /** The monitored master's name. */
    public static final String MASTER_NAME = "roster-master";

    private final EmbeddedRedis master;
    private final EmbeddedRedis sentinel;

    private RedisSentinelHarness() {
        Path root = TempDirs.create("roster-redis-sentinel-");
        master = EmbeddedRedis.builder().dataDir(root.resolve("master")).build();
        master.start();
        sentinel = EmbeddedRedis.builder()
                .dataDir(root.resolve("sentinel"))
                .sentinel(true)
                .config("sentinel monitor", MASTER_NAME, master.host(), Integer.toString(master.port()), "1")
                .config("sentinel down-after-milliseconds", MASTER_NAME, "5000")
                .build();
        sentinel.start();
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            sentinel.kill();
                            master.kill();
                        },
                        "redis-sentinel-harness-stop"));
        await("sentinel knows " + MASTER_NAME)
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> List.of(master.host(), Integer.toString(master.port()))
                        .equals(sentinelCommand("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)));
    }

    private static final class Holder {
        static final RedisSentinelHarness INSTANCE = new RedisSentinelHarness();
    }

    /** The JVM's shared master and sentinel, started on first call. */
    public static RedisSentinelHarness shared() {
        return Holder.INSTANCE;
    }

    /** {@code redis-sentinel://127.0.0.1:<sentinel port>?master=roster-master}. */
    public String uri() {
        return "redis-sentinel://" + sentinel.host() + ":" + sentinel.port() + "?master=" + MASTER_NAME;
    }

    /** The master's port. */
    public int masterPort() {
        return master.port();
    }

    /** The sentinel's port. */
    public int sentinelPort() {
        return sentinel.port();
    }

    /** Runs a command on the master directly. */
    public Object masterCommand(String... args) {
        try (RespConnection c = RespConnection.open(master.host(), master.port(), Duration.ofSeconds(5))) {
            return c.command(args);
        }
    }

    /** Runs a command on the sentinel. */
    public Object sentinelCommand(String... args) {
        try (RespConnection c = RespConnection.open(sentinel.host(), sentinel.port(), Duration.ofSeconds(5))) {
            return c.command(args);
        }
    }
}
