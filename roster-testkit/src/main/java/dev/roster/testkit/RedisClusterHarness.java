package dev.roster.testkit;

import static org.awaitility.Awaitility.await;

import dev.roster.embedded.EmbeddedRedis;
import dev.roster.embedded.RespConnection;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * A three-master Redis Cluster per test JVM, assembled by the harness from embedded Redis processes:
 * each node gets a third of the 16384 slots with {@code CLUSTER ADDSLOTSRANGE}, the nodes are joined
 * with {@code CLUSTER MEET}, and {@link #shared()} returns only once every node reports {@code
 * cluster_state:ok}. Ports are at most 55535 because the cluster bus listens on port + 10000. Stopped
 * by a JVM shutdown hook. No replicas: the harness exercises slot routing, not failover.
 *
 * <pre>{@code
 * RedisClusterHarness cluster = RedisClusterHarness.shared();
 * String uri = cluster.uri();               // redis-cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3
 * int port = cluster.portServing("key");    // which master owns a key's slot
 * }</pre>
 */
public final class RedisClusterHarness {
    private static final int[][] SLOTS = {{0, 5460}, {5461, 10922}, {10923, 16383}};
    private static final AtomicLong PREFIXES = new AtomicLong();

    private final List<EmbeddedRedis> nodes = new ArrayList<>();

    private RedisClusterHarness() {
        Path root = TempDirs.create("roster-redis-cluster-");
        for (int i = 0; i < 3; i++) {
            EmbeddedRedis node = EmbeddedRedis.builder()
                    .port(clusterPort())
                    .dataDir(root.resolve("node" + i))
                    .config("cluster-enabled", "yes")
                    .config("cluster-config-file", "nodes.conf")
                    .config("cluster-node-timeout", "5000")
                    .build();
            node.start();
            nodes.add(node);
        }
        Runtime.getRuntime()
                .addShutdownHook(new Thread(() -> nodes.forEach(EmbeddedRedis::kill), "redis-cluster-harness-stop"));
        assemble();
    }

    private static final class Holder {
        static final RedisClusterHarness INSTANCE = new RedisClusterHarness();
    }

    /** The JVM's shared cluster, assembled on first call. */
    public static RedisClusterHarness shared() {
        return Holder.INSTANCE;
    }

    /** {@code redis-cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3}. */
    public String uri() {
        return "redis-cluster://"
                + nodes.stream().map(n -> n.host() + ":" + n.port()).collect(Collectors.joining(","));
    }

    /** The master ports, in slot order. */
    public List<Integer> ports() {
        return nodes.stream().map(EmbeddedRedis::port).toList();
    }

    /** A key prefix no other caller in this JVM gets (no hash-tag braces). */
    public String keyPrefix(Class<?> testClass) {
        return "c" + PREFIXES.incrementAndGet() + "-"
                + testClass.getSimpleName().replaceAll("[^A-Za-z0-9_]", "_") + ":";
    }

    /** The port of the master that serves {@code key}'s slot (asks the cluster with CLUSTER KEYSLOT). */
    public int portServing(String key) {
        long slot = (Long) Objects.requireNonNull(command(0, "CLUSTER", "KEYSLOT", key), "KEYSLOT reply");
        for (int i = 0; i < SLOTS.length; i++) {
            if (slot >= SLOTS[i][0] && slot <= SLOTS[i][1]) {
                return nodes.get(i).port();
            }
        }
        throw new IllegalStateException("slot " + slot + " is not assigned");
    }

    /** Runs a command on node {@code index} (0..2) directly. */
    public @Nullable Object command(int index, String... args) {
        EmbeddedRedis n = nodes.get(index);
        try (RespConnection c = RespConnection.open(n.host(), n.port(), Duration.ofSeconds(5))) {
            return c.command(args);
        }
    }

    /** Runs a command on every master; e.g. {@code FLUSHALL}. */
    public void commandOnAll(String... args) {
        for (int i = 0; i < nodes.size(); i++) {
            command(i, args);
        }
    }

    private void assemble() {
        for (int i = 0; i < nodes.size(); i++) {
            command(i, "CLUSTER", "ADDSLOTSRANGE", Integer.toString(SLOTS[i][0]), Integer.toString(SLOTS[i][1]));
        }
        for (int i = 1; i < nodes.size(); i++) {
            command(
                    0,
                    "CLUSTER",
                    "MEET",
                    nodes.get(i).host(),
                    Integer.toString(nodes.get(i).port()));
        }
        await("cluster_state:ok on all three masters")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    for (int i = 0; i < nodes.size(); i++) {
                        String info =
                                (String) Objects.requireNonNull(command(i, "CLUSTER", "INFO"), "CLUSTER INFO reply");
                        if (!info.contains("cluster_state:ok") || !info.contains("cluster_known_nodes:3")) {
                            return false;
                        }
                    }
                    return true;
                });
    }

    private static int clusterPort() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        for (int attempt = 0; attempt < 200; attempt++) {
            int p = 20_000 + r.nextInt(35_000);
            if (free(p) && free(p + 10_000)) {
                return p;
            }
        }
        throw new IllegalStateException("no free port pair (p, p+10000) below 55535 after 200 attempts");
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
