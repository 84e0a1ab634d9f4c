package dev.roster.testkit;

import static org.awaitility.Awaitility.await;

import dev.roster.embedded.EmbeddedRedis;
import dev.roster.embedded.RespConnection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Redis under Sentinel from embedded processes, in two shapes.
 *
 * <ul>
 *   <li>{@link #shared()}: one master and one Sentinel monitoring it (quorum 1) per test JVM, for
 *       round trips through a {@code redis-sentinel://} URI. Stopped by a JVM shutdown hook.
 *   <li>{@link #startWithReplica()}: a fresh master, a replica and a Sentinel of its own, with fault
 *       controls for failover tests; the caller closes it. The replica replicates through a {@link
 *       TcpProxy}, so {@link #pauseReplication()} holds back every write from then on and {@link
 *       #killMaster()} discards what was held: those writes are lost with the master, every time,
 *       which is what a frozen or lagging replica does by chance.
 * </ul>
 *
 * <pre>{@code
 * try (RedisSentinelHarness s = RedisSentinelHarness.startWithReplica()) {
 *     String uri = s.uri();        // redis-sentinel://127.0.0.1:<sentinel port>?master=roster-master
 *     s.pauseReplication();        // writes from here on reach the master only
 *     s.killMaster();              // SIGKILL; the held-back writes are gone
 *     s.awaitPromotion(Duration.ofSeconds(30));   // the Sentinel promoted the replica
 * }
 * }</pre>
 */
public final class RedisSentinelHarness implements AutoCloseable {
    /** The monitored master's name. */
    public static final String MASTER_NAME = "roster-master";

    private final EmbeddedRedis master;
    private final @Nullable EmbeddedRedis replica;
    private final @Nullable TcpProxy replicationLink;
    private final EmbeddedRedis sentinel;

    private RedisSentinelHarness(boolean withReplica) {
        Path root = TempDirs.create("roster-redis-sentinel-");
        master = EmbeddedRedis.builder().dataDir(root.resolve("master")).build();
        master.start();
        if (withReplica) {
            replicationLink = TcpProxy.start(master.host(), master.port());
            replica = EmbeddedRedis.builder()
                    .dataDir(root.resolve("replica"))
                    .config("replicaof", replicationLink.host(), Integer.toString(replicationLink.port()))
                    .build();
            replica.start();
            // The Sentinel learns about the replica from the master's first INFO: attach it before.
            awaitReplicaInSync(Duration.ofSeconds(30));
        } else {
            replicationLink = null;
            replica = null;
        }
        EmbeddedRedis.Builder sb = EmbeddedRedis.builder()
                .dataDir(root.resolve("sentinel"))
                .sentinel(true)
                .config("sentinel monitor", MASTER_NAME, master.host(), Integer.toString(master.port()), "1");
        if (withReplica) {
            // Quick failovers for tests: down after 1 s, a failed attempt retried after 2 x 3 s.
            sb.config("sentinel down-after-milliseconds", MASTER_NAME, "1000")
                    .config("sentinel failover-timeout", MASTER_NAME, "3000");
        } else {
            sb.config("sentinel down-after-milliseconds", MASTER_NAME, "5000");
        }
        sentinel = sb.build();
        sentinel.start();
        if (!withReplica) {
            Runtime.getRuntime()
                    .addShutdownHook(new Thread(
                            () -> {
                                sentinel.kill();
                                master.kill();
                            },
                            "redis-sentinel-harness-stop"));
        }
        await("sentinel knows " + MASTER_NAME)
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> List.of(master.host(), Integer.toString(master.port()))
                        .equals(sentinelCommand("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)));
        if (withReplica) {
            awaitReplicaHealthy(Duration.ofSeconds(30));
        }
    }

    private static final class Holder {
        static final RedisSentinelHarness INSTANCE = new RedisSentinelHarness(false);
    }

    /** The JVM's shared master and sentinel (no replica), started on first call. */
    public static RedisSentinelHarness shared() {
        return Holder.INSTANCE;
    }

    /**
     * A new master, replica and Sentinel; returns once the replica is in sync and the Sentinel lists it
     * as a healthy replica. Close it at the end of the test.
     */
    public static RedisSentinelHarness startWithReplica() {
        return new RedisSentinelHarness(true);
    }

    /** {@code redis-sentinel://127.0.0.1:<sentinel port>?master=roster-master}. */
    public String uri() {
        return "redis-sentinel://" + sentinel.host() + ":" + sentinel.port() + "?master=" + MASTER_NAME;
    }

    /** The master's port. */
    public int masterPort() {
        return master.port();
    }

    /** The replica's port. */
    public int replicaPort() {
        return requireReplica().port();
    }

    /** The sentinel's port. */
    public int sentinelPort() {
        return sentinel.port();
    }

    /** Runs a command on the master directly. */
    public @Nullable Object masterCommand(String... args) {
        try (RespConnection c = RespConnection.open(master.host(), master.port(), Duration.ofSeconds(5))) {
            return c.command(args);
        }
    }

    /** Runs a command on the replica directly. */
    public @Nullable Object replicaCommand(String... args) {
        EmbeddedRedis r = requireReplica();
        try (RespConnection c = RespConnection.open(r.host(), r.port(), Duration.ofSeconds(5))) {
            return c.command(args);
        }
    }

    /** Runs a command on the sentinel. */
    public @Nullable Object sentinelCommand(String... args) {
        try (RespConnection c = RespConnection.open(sentinel.host(), sentinel.port(), Duration.ofSeconds(5))) {
            return c.command(args);
        }
    }

    // ---- fault controls (startWithReplica only) ------------------------------------------------

    /** Holds back replication: every write to the master from now on stays off the replica. */
    public void pauseReplication() {
        requireReplica();
        link().pause();
    }

    /** Stops the replica process (SIGSTOP): it neither replicates nor answers, the Sentinel included. */
    public void freezeReplica() {
        signal(requireReplica(), "-STOP");
    }

    /** Resumes a frozen replica (SIGCONT). */
    public void thawReplica() {
        signal(requireReplica(), "-CONT");
    }

    /**
     * Kills the master (SIGKILL) after cutting the replication link, so the writes held back by {@link
     * #pauseReplication()} are discarded with it; the replica cannot reconnect (the link black-holes).
     */
    public void killMaster() {
        requireReplica();
        link().partition();
        master.kill();
    }

    /** Waits until the Sentinel names the replica as master and the replica says it is one. */
    public void awaitPromotion(Duration atMost) {
        EmbeddedRedis r = requireReplica();
        await("sentinel promotes the replica")
                .atMost(atMost)
                .pollInterval(Duration.ofMillis(50))
                .ignoreExceptions()
                .until(() -> List.of(r.host(), Integer.toString(r.port()))
                                .equals(sentinelCommand("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME))
                        && replicaCommand("ROLE") instanceof List<?> role
                        && "master".equals(role.getFirst()));
    }

    /** Waits until the replica's link is up and its offset equals the master's. */
    public void awaitReplicaInSync(Duration atMost) {
        requireReplica();
        await("replica in sync")
                .atMost(atMost)
                .pollInterval(Duration.ofMillis(50))
                .ignoreExceptions()
                .until(() -> {
                    Map<String, String> m = info(masterCommand("INFO", "replication"));
                    Map<String, String> r = info(replicaCommand("INFO", "replication"));
                    return "up".equals(r.get("master_link_status"))
                            && Objects.equals(m.get("master_repl_offset"), r.get("slave_repl_offset"))
                            && m.get("master_repl_offset") != null;
                });
    }

    /** Waits until the Sentinel lists the replica with no failure flag (it would not promote it else). */
    public void awaitReplicaHealthy(Duration atMost) {
        EmbeddedRedis r = requireReplica();
        await("sentinel lists a healthy replica")
                .atMost(atMost)
                .pollInterval(Duration.ofMillis(100))
                .ignoreExceptions()
                .until(() -> {
                    if (!(sentinelCommand("SENTINEL", "REPLICAS", MASTER_NAME) instanceof List<?> replicas)) {
                        return false;
                    }
                    for (Object o : replicas) {
                        List<?> kv = (List<?>) o;
                        String port = null;
                        String flags = null;
                        for (int i = 0; i + 1 < kv.size(); i += 2) {
                            if ("port".equals(kv.get(i))) {
                                port = (String) kv.get(i + 1);
                            } else if ("flags".equals(kv.get(i))) {
                                flags = (String) kv.get(i + 1);
                            }
                        }
                        if (Integer.toString(r.port()).equals(port) && "slave".equals(flags)) {
                            return true;
                        }
                    }
                    return false;
                });
    }

    /** Kills every process of a {@link #startWithReplica()} harness; the shared one lives until JVM exit. */
    @Override
    public void close() {
        if (replica == null) {
            return;
        }
        thawQuietly();
        sentinel.kill();
        requireReplica().kill();
        master.kill();
        link().close();
    }

    private void thawQuietly() {
        if (requireReplica().isRunning()) {
            // A test that failed while the replica was frozen leaves it stopped; resume it so its
            // kill below is as on any other run.
            signal(requireReplica(), "-CONT");
        }
    }

    /** The replication link; there is one exactly when there is a replica. */
    private TcpProxy link() {
        return Objects.requireNonNull(replicationLink, "this harness has no replica");
    }

    private EmbeddedRedis requireReplica() {
        if (replica == null) {
            throw new IllegalStateException("this harness has no replica: use RedisSentinelHarness.startWithReplica()");
        }
        return replica;
    }

    private static void signal(EmbeddedRedis r, String signal) {
        long pid = r.pid();
        if (pid < 0) {
            throw new IllegalStateException(r + " is not running");
        }
        try {
            Process p = new ProcessBuilder("kill", signal, Long.toString(pid))
                    .redirectErrorStream(true)
                    .start();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("kill " + signal + " " + pid + " failed: "
                        + new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run kill " + signal + " " + pid, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while signalling " + pid, e);
        }
    }

    private static Map<String, String> info(@Nullable Object reply) {
        Map<String, String> out = new java.util.HashMap<>();
        // split drops the empty strings a trailing newline leaves: none is a field anyway.
        @SuppressWarnings("StringSplitter")
        String[] lines = String.valueOf(reply).split("\r?\n");
        for (String line : lines) {
            int i = line.indexOf(':');
            if (i > 0) {
                out.put(line.substring(0, i), line.substring(i + 1).trim());
            }
        }
        return out;
    }
}
