package dev.roster.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * A {@code redis-server} process started from the binary that {@code org.signal:embedded-redis}
 * ships (Redis 7.0.15), bound to loopback. It can be stopped gracefully, killed, and started again on
 * the same port and data directory, which is what the server's embedded default and the test kit's
 * fault controls need.
 *
 * <p>The process runs with a generated config file in the data directory and logs to {@code
 * redis.log} there. By default it keeps no persistence (no RDB, no AOF); {@link
 * Builder#persistent(boolean)} turns on an append-only file so data survives {@link #stop()} and
 * {@link #start()}. Extra directives (e.g. {@code cluster-enabled yes}) go through {@link
 * Builder#config}. In {@linkplain Builder#sentinel sentinel mode} the process is a Sentinel and the
 * directives are sentinel ones (e.g. {@code sentinel monitor mymaster 127.0.0.1 6379 1}).
 *
 * <p>Every process still running when the JVM exits is stopped by a shutdown hook, so a crashed test
 * run does not leave servers behind. Instances are thread-safe.
 */
public final class EmbeddedRedis implements AutoCloseable {
    /** The Redis version of the shipped binary. */
    public static final String REDIS_VERSION = "7.0.15";

    private static final String HOST = "127.0.0.1";
    private static final Set<EmbeddedRedis> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> RUNNING.forEach(r -> {
                            Process p = r.process;
                            if (p != null && r.reapOnExit) {
                                p.destroyForcibly();
                            }
                        }),
                        "embedded-redis-reaper"));
    }

    private final int port;
    private final Path dataDir;
    private final Map<String, List<String>> config;
    private final boolean sentinel;
    private final Duration startTimeout;
    private final boolean reapOnExit;
    private volatile @Nullable Process process;

    private EmbeddedRedis(Builder b) {
        this.port = b.port == 0 ? freePort() : b.port;
        this.dataDir = Objects.requireNonNull(b.dataDir, "dataDir"); // build() refuses a builder without one
        this.config = new LinkedHashMap<>(b.config);
        this.sentinel = b.sentinel;
        this.startTimeout = b.startTimeout;
        this.reapOnExit = b.reapOnExit;
    }

    /** A new builder; nothing runs until {@link #start()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** The loopback address the server binds to. */
    public String host() {
        return HOST;
    }

    /** The port (fixed at build time, kept across restarts). */
    public int port() {
        return port;
    }

    /** The data directory (config file, log, persistence files). */
    public Path dataDir() {
        return dataDir;
    }

    /** {@code redis://127.0.0.1:<port>}. */
    public String uri() {
        return "redis://" + HOST + ":" + port;
    }

    /**
     * Starts the process and waits until it answers PING. Does nothing if it is already running.
     *
     * @throws IllegalStateException naming the port, the data directory and the last log lines when
     *     the process exits or does not answer within the start timeout
     */
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        Path conf = writeConfig();
        Path log = dataDir.resolve("redis.log");
        List<String> cmd = new ArrayList<>(List.of(binary().toString(), conf.toString()));
        if (sentinel) {
            cmd.add("--sentinel");
        }
        try {
            process = new ProcessBuilder(cmd)
                    .directory(dataDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
        RUNNING.add(this);
        long deadline = System.nanoTime() + startTimeout.toNanos();
        while (true) {
            if (!process.isAlive()) {
                RUNNING.remove(this);
                throw new IllegalStateException(describe("exited with code " + process.exitValue()));
            }
            if (answersPing()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                kill();
                throw new IllegalStateException(describe("did not answer PING within " + startTimeout));
            }
            // A readiness poll in production code: there is no event to wait on.
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    /**
     * Stops the process gracefully (SIGTERM: Redis writes its persistence files and exits) and waits
     * for it to exit; escalates to SIGKILL after 10 s. Does nothing if not running.
     */
    public synchronized void stop() {
        Process p = process;
        if (p == null) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        process = null;
        RUNNING.remove(this);
    }

    /** Kills the process with SIGKILL (no persistence is written) and waits for it to exit. */
    public synchronized void kill() {
        Process p = process;
        if (p == null) {
            return;
        }
        p.destroyForcibly();
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process = null;
        RUNNING.remove(this);
    }

    /** Whether the process is alive. */
    public boolean isRunning() {
        Process p = process;
        return p != null && p.isAlive();
    }

    /** The process id, or -1 when not running. */
    public long pid() {
        Process p = process;
        return p == null ? -1 : p.pid();
    }

    /** Same as {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return (sentinel ? "EmbeddedRedis[sentinel " : "EmbeddedRedis[") + HOST + ":" + port + ", " + dataDir + "]";
    }

    /**
     * The {@code redis-server} binary for this platform, extracted once per machine into the temporary
     * directory (an atomic move makes concurrent JVMs safe).
     *
     * @throws IllegalStateException when no binary is shipped for this OS and architecture
     */
    public static Path binary() {
        return BinaryHolder.PATH;
    }

    private static final class BinaryHolder {
        static final Path PATH = extract();

        private static Path extract() {
            String resource = "redis-server-" + REDIS_VERSION + "-" + platform();
            Path dir = Path.of(System.getProperty("java.io.tmpdir"), "roster-embedded-redis");
            Path target = dir.resolve(resource);
            try (InputStream in = EmbeddedRedis.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("embedded-redis ships no binary named " + resource
                            + " (is org.signal:embedded-redis on the class path?)");
                }
                byte[] bytes = in.readAllBytes();
                if (Files.isExecutable(target) && Files.size(target) == bytes.length) {
                    return target;
                }
                Files.createDirectories(dir);
                Path tmp = Files.createTempFile(dir, resource, ".tmp");
                Files.write(tmp, bytes);
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                return target;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot extract " + resource + " to " + target, e);
            }
        }

        private static String platform() {
            String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
            String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
            String o = os.contains("mac") ? "darwin" : os.contains("linux") ? "linux" : null;
            String a = arch.equals("amd64") || arch.equals("x86_64")
                    ? "amd64"
                    : arch.equals("aarch64") || arch.equals("arm64") ? "arm64" : null;
            if (o == null || a == null) {
                throw new IllegalStateException("no embedded redis binary for os '" + os + "' arch '" + arch + "'");
            }
            return o + "-" + a;
        }
    }

    private Path writeConfig() {
        StringBuilder sb = new StringBuilder();
        sb.append("port ").append(port).append('\n');
        sb.append("bind ").append(HOST).append('\n');
        sb.append("daemonize no\n");
        sb.append("dir ").append(quote(dataDir.toAbsolutePath().toString())).append('\n');
        if (!sentinel) {
            sb.append("save \"\"\n");
            sb.append("appendonly no\n");
        }
        config.forEach((k, v) -> {
            sb.append(k);
            for (String arg : v) {
                sb.append(' ').append(quote(arg));
            }
            sb.append('\n');
        });
        Path conf = dataDir.resolve(sentinel ? "sentinel.conf" : "redis.conf");
        try {
            Files.createDirectories(dataDir);
            Files.writeString(conf, sb.toString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + conf, e);
        }
        return conf;
    }

    private static String quote(String s) {
        if (!s.isEmpty() && s.chars().noneMatch(c -> c <= ' ' || c == '"' || c == '\'' || c == '\\')) {
            return s;
        }
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    private boolean answersPing() {
        try (RespConnection c = RespConnection.open(HOST, port, Duration.ofMillis(500))) {
            return "PONG".equals(c.command("PING"));
        } catch (RuntimeException e) {
            // Not listening yet, or still loading its data set.
            return false;
        }
    }

    private String describe(String what) {
        String tail;
        try {
            List<String> lines = Files.readAllLines(dataDir.resolve("redis.log"), StandardCharsets.UTF_8);
            tail = String.join("\n  ", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException e) {
            tail = "(no log: " + e.getMessage() + ")";
        }
        return "redis-server on " + HOST + ":" + port + " (data " + dataDir + ") " + what + "; last log lines:\n  "
                + tail;
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free loopback port", e);
        }
    }

    /** Builds an {@link EmbeddedRedis}; {@link #dataDir(Path)} is required. */
    public static final class Builder {
        private int port;
        private @Nullable Path dataDir;
        private final Map<String, List<String>> config = new LinkedHashMap<>();
        private boolean sentinel;
        private Duration startTimeout = Duration.ofSeconds(20);
        private boolean reapOnExit = true;

        private Builder() {}

        /**
         * Whether a JVM shutdown hook kills the process (default true, for tests). The server turns it
         * off and stops Redis itself at the end of its own shutdown, after releasing its leases: the
         * hooks of one JVM run concurrently, so a reaper would kill Redis while they are released.
         */
        public Builder reapOnExit(boolean v) {
            this.reapOnExit = v;
            return this;
        }

        /** The port; {@code 0} (default) picks a free loopback port once, kept across restarts. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0..65535, got " + port);
            }
            this.port = port;
            return this;
        }

        /** The data directory; created if missing. Required. */
        public Builder dataDir(Path dataDir) {
            this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
            return this;
        }

        /**
         * Adds (or replaces) a config directive, e.g. {@code config("cluster-enabled", "yes")}.
         * Directives that may repeat (like {@code sentinel monitor}) use distinct first arguments as
         * part of the name: {@code config("sentinel monitor", "mymaster", "127.0.0.1", "6379", "1")}.
         */
        public Builder config(String directive, String... args) {
            if (directive == null || directive.isBlank() || directive.contains("\n")) {
                throw new IllegalArgumentException(
                        "config directive must be a non-blank single line, got '" + directive + "'");
            }
            config.put(directive, List.of(args));
            return this;
        }

        /** Keeps data across stop and start through an append-only file (off by default). */
        public Builder persistent(boolean persistent) {
            if (persistent) {
                config.put("appendonly", List.of("yes"));
                config.put("appendfsync", List.of("everysec"));
            } else {
                config.remove("appendonly");
                config.remove("appendfsync");
            }
            return this;
        }

        /** Runs the process as a Redis Sentinel ({@code --sentinel}). */
        public Builder sentinel(boolean sentinel) {
            this.sentinel = sentinel;
            return this;
        }

        /** How long {@link EmbeddedRedis#start()} waits for PING (default 20 s). */
        public Builder startTimeout(Duration startTimeout) {
            Objects.requireNonNull(startTimeout, "startTimeout");
            if (startTimeout.isNegative() || startTimeout.isZero()) {
                throw new IllegalArgumentException("startTimeout must be positive, got " + startTimeout);
            }
            this.startTimeout = startTimeout;
            return this;
        }

        /** Builds the (not yet started) server. */
        public EmbeddedRedis build() {
            if (dataDir == null) {
                throw new IllegalStateException("EmbeddedRedis needs a dataDir");
            }
            return new EmbeddedRedis(this);
        }
    }
}
