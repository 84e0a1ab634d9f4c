package dev.roster.server.app;

import dev.roster.Roster;
import dev.roster.server.config.RosterConfig;
import dev.roster.server.config.Secrets;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the library's {@link Roster} and keeps trying when a store cannot be reached: an unreachable
 * PostgreSQL or Redis at start is not a configuration error, so the server runs, reports
 * not-ready with the reason, and retries with back-off (1 s doubling to 30 s).
 */
public final class Supervisor implements BackendSource, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("roster.server");
    private static final Duration FIRST = Duration.ofSeconds(1);
    private static final Duration MAX = Duration.ofSeconds(30);

    private final RosterConfig config;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("roster-supervisor").unstarted(r));
    private volatile @Nullable LibraryBackend backend;
    private volatile String reason = "starting";
    private volatile boolean closed;
    private Duration delay = FIRST;
    private int attempts;

    /** A supervisor for {@code resolved} (every store has a URL). */
    public Supervisor(RosterConfig resolved) {
        this.config = resolved;
    }

    /** Starts the first attempt in the background and returns at once. */
    public Supervisor start() {
        timer.execute(this::attempt);
        return this;
    }

    /** Starts synchronously: one attempt, failing with the store's error (CLI commands). */
    public static LibraryBackend startNow(RosterConfig resolved) {
        return new LibraryBackend(builder(resolved).build());
    }

    private static Roster.Builder builder(RosterConfig c) {
        return Roster.builder()
                .jdbc(
                        c.database().resolvedUrl(),
                        c.database().user(),
                        c.database().password())
                .poolSize(c.database().poolSize())
                .redisUri(c.redis().resolvedUrl())
                .keyPrefix(c.redis().keyPrefix())
                .config(c.service())
                .migrate(c.database().migrate());
    }

    private void attempt() {
        if (closed) {
            return;
        }
        attempts++;
        try {
            Roster r = builder(config).build();
            synchronized (this) {
                if (closed) {
                    r.close();
                    return;
                }
                backend = new LibraryBackend(r);
            }
            reason = "";
            if (attempts > 1) {
                LOG.info("event=stores_reachable attempts={}", attempts);
            }
        } catch (RuntimeException e) {
            reason = "stores unreachable (attempt " + attempts + ", retrying in " + delay.toSeconds() + " s): "
                    + Secrets.maskUrl(String.valueOf(e.getMessage()));
            LOG.warn(
                    "event=start_failed attempt={} retry_in_s={} error=\"{}\"",
                    attempts,
                    delay.toSeconds(),
                    Secrets.maskUrl(String.valueOf(e.getMessage())));
            // The retry reports its own failure (this method again); nothing waits on the future.
            var unused = timer.schedule(this::attempt, delay.toMillis(), TimeUnit.MILLISECONDS);
            delay = delay.multipliedBy(2).compareTo(MAX) > 0 ? MAX : delay.multipliedBy(2);
        }
    }

    @Override
    public @Nullable Backend backend() {
        return backend;
    }

    @Override
    public Backend.Readiness readiness() {
        Backend b = backend;
        return b == null ? new Backend.Readiness(false, reason) : b.readiness();
    }

    /** Stops retrying and closes the backend (flushes last-used, releases the replayer lease). */
    @Override
    public void close() {
        LibraryBackend b;
        synchronized (this) {
            closed = true;
            b = backend;
        }
        timer.shutdownNow();
        try {
            timer.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (b != null) {
            b.close();
        }
    }
}
