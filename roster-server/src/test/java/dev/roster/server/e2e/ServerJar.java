package dev.roster.server.e2e;

import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The built server jar ({@code target/roster-server.jar}, made by the shade plugin in {@code package})
 * run as a child process, exactly as {@code ./roster} runs it: same JVM flags on JDK 24+.
 */
final class ServerJar implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on http://([^ ]+):(\\d+)");
    private static final Pattern PG = Pattern.compile("embedded PostgreSQL \\d+ on 127\\.0\\.0\\.1:(\\d+)");

    final Process process;
    final List<String> out = new CopyOnWriteArrayList<>();
    final List<String> err = new CopyOnWriteArrayList<>();

    private ServerJar(Process p) {
        this.process = p;
        pump(p.getInputStream(), out, "roster-jar-out");
        pump(p.getErrorStream(), err, "roster-jar-err");
    }

    static Path jar() {
        String p = System.getProperty("roster.jar");
        Path jar = p != null ? Path.of(p) : Path.of("target", "roster-server.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("no server jar at " + jar.toAbsolutePath()
                    + "; these tests run in the integration-test phase after package");
        }
        return jar;
    }

    static List<String> command(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (Runtime.version().feature() >= 24) {
            // What scripts/jdk.sh passes: keeps Netty's and Jetty's JDK warnings off the terminal.
            cmd.add("--sun-misc-unsafe-memory-access=allow");
            cmd.add("--enable-native-access=ALL-UNNAMED");
        }
        cmd.add("-Xshare:auto");
        cmd.add("-jar");
        cmd.add(jar().toAbsolutePath().toString());
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Starts the jar with {@code args} in {@code dir}, with extra environment variables. */
    static ServerJar start(Path dir, Map<String, String> env, String... args) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command(args)).directory(dir.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("ROSTER_"));
        pb.environment().putAll(env);
        return new ServerJar(pb.start());
    }

    /** Runs the jar to completion (bounded) and returns exit code and output. */
    static Result run(Path dir, Map<String, String> env, Duration limit, String... args) throws Exception {
        try (ServerJar j = start(dir, env, args)) {
            if (!j.process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("roster " + String.join(" ", args) + " did not end within " + limit
                        + "\nstdout:\n" + String.join("\n", j.out) + "\nstderr:\n" + String.join("\n", j.err));
            }
            j.awaitPumps();
            return new Result(j.process.exitValue(), String.join("\n", j.out), String.join("\n", j.err));
        }
    }

    record Result(int code, String out, String err) {}

    private final List<Thread> pumps = new ArrayList<>();

    private void pump(InputStream in, List<String> sink, String name) {
        pumps.add(Thread.ofPlatform().daemon().name(name).start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    sink.add(line);
                }
            } catch (IOException e) {
                // Only close() (which destroys the process and our ends of its pipes) may cut a pump
                // short; awaitPumps, after a regular end, reports it.
                pumpErrors.add(new UncheckedIOException(name + " failed", e));
            }
        }));
    }

    private final List<Throwable> pumpErrors = new java.util.concurrent.CopyOnWriteArrayList<>();

    void awaitPumps() throws InterruptedException {
        for (Thread t : pumps) {
            t.join(10_000);
            if (t.isAlive()) {
                throw new AssertionError(t.getName() + " still reading 10 s after the process ended");
            }
        }
        if (!pumpErrors.isEmpty()) {
            throw new AssertionError("reading the server's output failed", pumpErrors.getFirst());
        }
    }

    /** The base URL once the server printed its listening line. */
    String awaitListening(Duration limit) {
        await().atMost(limit)
                .until(() -> out.stream().anyMatch(l -> LISTENING.matcher(l).find()) || !process.isAlive());
        for (String l : out) {
            Matcher m = LISTENING.matcher(l);
            if (m.find()) {
                return "http://" + m.group(1) + ":" + m.group(2);
            }
        }
        throw new AssertionError(
                "server did not start\nstdout:\n" + String.join("\n", out) + "\nstderr:\n" + String.join("\n", err));
    }

    /** The embedded PostgreSQL port from the first lines. */
    int postgresPort() {
        for (String l : out) {
            Matcher m = PG.matcher(l);
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
        }
        throw new AssertionError("no embedded PostgreSQL line in " + out);
    }

    /** SIGTERM and wait. */
    int terminate(Duration limit) throws InterruptedException {
        // Through the handle: Process.destroy() would also close our ends of stdout and stderr at once,
        // losing what the server prints while it shuts down.
        process.toHandle().destroy();
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("server did not stop within " + limit + " after SIGTERM");
        }
        awaitPumps();
        return process.exitValue();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
