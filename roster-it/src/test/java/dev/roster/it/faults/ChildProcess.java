package dev.roster.it.faults;

import static org.awaitility.Awaitility.await;

import dev.roster.testkit.RedisHarness;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@link RosterChild} in its own JVM (same {@code java} binary, the test class path), with its output
 * in a file that is scanned for secrets when it ends. {@link #kill()} is SIGKILL: no shutdown hook runs,
 * the replayer lease is never released and must expire.
 */
public final class ChildProcess implements AutoCloseable {
    private final Process process;
    private final Path dir;
    private final Path log;

    private ChildProcess(Process process, Path dir, Path log) {
        this.process = process;
        this.dir = dir;
        this.log = log;
    }

    /** Launches a child over {@code env}'s database and prefix with the given gate. */
    public static ChildProcess launch(FaultEnv env, String gate) {
        try {
            Path dir = Files.createTempDirectory("roster-child-");
            Path log = dir.resolve("output.log");
            String java = ProcessHandle.current().info().command().orElse("java");
            List<String> cmd = List.of(
                    java,
                    "-Xmx256m",
                    "-XX:TieredStopAtLevel=1",
                    "-cp",
                    System.getProperty("java.class.path"),
                    RosterChild.class.getName(),
                    env.db.jdbcUrl(),
                    env.db.user(),
                    env.db.password().isEmpty() ? "" : env.db.password(),
                    RedisHarness.shared().uri(),
                    env.prefix,
                    dir.toString(),
                    gate);
            Process p = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            return new ChildProcess(p, dir, log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Awaits the child's {@code ready} file (it replays and its projection is current). */
    public void awaitReady(Duration atMost) {
        awaitFile("ready", atMost);
    }

    /** Arms the gate. */
    public void arm() {
        RosterChild.touch(dir.resolve("arm"));
    }

    /** Awaits the child stopping at its gate. */
    public void awaitGate(Duration atMost) {
        awaitFile("reached", atMost);
    }

    /** Lets the child continue from its gate. */
    public void release() {
        RosterChild.touch(dir.resolve("release"));
    }

    private void awaitFile(String name, Duration atMost) {
        await("child " + name + " (log " + log + ")")
                .atMost(atMost)
                .pollInterval(Duration.ofMillis(20))
                .failFast("child exited", () -> !process.isAlive())
                .until(() -> Files.exists(dir.resolve(name)));
    }

    /** SIGKILL, and waits until the process is gone. */
    public void kill() {
        process.destroyForcibly();
        waitFor();
    }

    /** SIGTERM (shutdown hooks run: the lease is released), and waits until the process is gone. */
    public void terminate() {
        process.destroy();
        waitFor();
    }

    private void waitFor() {
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError("child process " + process.pid() + " still alive 30 s after the signal");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for child process " + process.pid() + " to end", e);
        }
    }

    /** The child's output so far. */
    public String output() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Kills the child if still running and scans its output for secrets. */
    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
        SecretScan.inspect("child output", output());
    }
}
