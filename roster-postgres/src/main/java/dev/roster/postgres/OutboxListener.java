package dev.roster.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The LISTEN wake-up (docs/architecture.md, "Reading the outbox without skips"): a dedicated session connection
 * listening on {@value #CHANNEL} that calls {@code onWake} when a transaction that wrote outbox rows commits. It is a
 * latency optimisation only: polling stays the correctness path, because notifications are lost while the
 * connection is down. After a connection loss it reconnects with back-off (100 ms doubling to
 * {@code maxBackoff}) and calls {@code onWake} once reconnected, since commits may have been missed.
 *
 * <p>The connection must be a real session (not a transaction-pooling proxy). {@code onWake} runs on
 * the listener's thread and should only signal (never block).
 */
public final class OutboxListener implements AutoCloseable {
    /** The notification channel the capture triggers use. */
    public static final String CHANNEL = "roster_outbox";

    private static final Logger LOG = LoggerFactory.getLogger(OutboxListener.class);

    /** Opens a new session connection. */
    @FunctionalInterface
    public interface ConnectionFactory {
        Connection open() throws SQLException;
    }

    private final ConnectionFactory factory;
    private final Runnable onWake;
    private final Duration pollTimeout;
    private final Duration maxBackoff;
    private final Thread thread;
    private final AtomicLong connects = new AtomicLong();
    private final AtomicLong wakes = new AtomicLong();
    private volatile boolean connected;
    private volatile boolean closed;
    private volatile @Nullable Connection current;

    private OutboxListener(ConnectionFactory factory, Runnable onWake, Duration pollTimeout, Duration maxBackoff) {
        this.factory = factory;
        this.onWake = onWake;
        this.pollTimeout = pollTimeout;
        this.maxBackoff = maxBackoff;
        this.thread = Thread.ofPlatform().daemon().name("roster-outbox-listen").unstarted(this::run);
    }

    /**
     * Starts a listener.
     *
     * @param factory opens the dedicated connection (not from a pool)
     * @param onWake called on each notification and after each (re)connection
     */
    public static OutboxListener start(ConnectionFactory factory, Runnable onWake) {
        return start(factory, onWake, Duration.ofMillis(500), Duration.ofSeconds(5));
    }

    /** Starts a listener with explicit wait-for-notification timeout and maximum back-off. */
    public static OutboxListener start(
            ConnectionFactory factory, Runnable onWake, Duration pollTimeout, Duration maxBackoff) {
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(onWake, "onWake");
        if (pollTimeout.isNegative() || pollTimeout.isZero() || maxBackoff.isNegative() || maxBackoff.isZero()) {
            throw new IllegalArgumentException("listener timeouts must be positive");
        }
        OutboxListener l = new OutboxListener(factory, onWake, pollTimeout, maxBackoff);
        l.thread.start();
        return l;
    }

    /** Whether the LISTEN connection is currently established. */
    public boolean connected() {
        return connected;
    }

    /** How many times the connection was established (1 + reconnections). */
    public long connections() {
        return connects.get();
    }

    /** How many wake-ups were delivered. */
    public long wakes() {
        return wakes.get();
    }

    private void run() {
        long backoffMs = 100;
        while (!closed) {
            try (Connection c = factory.open()) {
                current = c;
                PGConnection pg = c.unwrap(PGConnection.class);
                try (Statement st = c.createStatement()) {
                    st.execute("LISTEN " + CHANNEL);
                }
                connected = true;
                connects.incrementAndGet();
                backoffMs = 100;
                wake();
                while (!closed) {
                    PGNotification[] ns = pg.getNotifications((int) pollTimeout.toMillis());
                    if (ns != null && ns.length > 0) {
                        wake();
                    } else if (!c.isValid(1)) {
                        // getNotifications does not always notice a dead peer; a closed socket would
                        // otherwise leave us waiting forever.
                        throw new SQLException("LISTEN connection is no longer valid");
                    }
                }
            } catch (SQLException | RuntimeException e) {
                connected = false;
                if (closed) {
                    break;
                }
                LOG.warn(
                        "outbox LISTEN connection lost or unavailable ({}); retrying in {} ms",
                        e.getMessage(),
                        backoffMs);
                try {
                    Thread.sleep(backoffMs);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
                backoffMs = Math.min(backoffMs * 2, maxBackoff.toMillis());
            } finally {
                connected = false;
                current = null;
            }
        }
    }

    private void wake() {
        wakes.incrementAndGet();
        try {
            onWake.run();
        } catch (RuntimeException e) {
            LOG.warn("outbox wake-up callback failed", e);
        }
    }

    /** Stops listening and closes the connection. */
    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        Connection c = current;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // Closing is best effort; the thread exits either way.
            }
        }
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
