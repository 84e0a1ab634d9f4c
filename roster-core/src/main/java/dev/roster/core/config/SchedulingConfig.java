package dev.roster.core.config;

import java.time.Duration;

/**
 * sub2api's {@code gateway.scheduling} section, with its key names, formats and defaults
 * (docs/upstream.md U-CONFIG). {@code *_seconds} keys are whole seconds; {@code *_timeout} and
 * {@code *_interval} keys are durations. Construction validates every value and every combination,
 * naming the key in a {@link ConfigException}.
 *
 * @param stickySessionMaxWaiting {@code sticky_session_max_waiting}, &gt; 0 (default 3)
 * @param stickySessionWaitTimeout {@code sticky_session_wait_timeout}, &gt; 0 (default 120 s); 0 is refused,
 *     not read as "never wait", as sub2api refuses it
 * @param fallbackWaitTimeout {@code fallback_wait_timeout}, &gt; 0 (default 30 s), likewise
 * @param fallbackMaxWaiting {@code fallback_max_waiting}, &gt; 0 (default 100)
 * @param loadBatchEnabled {@code load_batch_enabled} (default true)
 * @param slotCleanupInterval {@code slot_cleanup_interval}, 0 disables (default 30 s)
 * @param dbFallbackEnabled {@code db_fallback_enabled} (default true)
 * @param dbFallbackTimeoutSeconds {@code db_fallback_timeout_seconds}, 0 = no extra timeout (default 0)
 * @param dbFallbackMaxQps {@code db_fallback_max_qps}, 0 = unlimited (default 0)
 * @param outboxPollIntervalSeconds {@code outbox_poll_interval_seconds}, &gt; 0 (default 1)
 * @param outboxLagWarnSeconds {@code outbox_lag_warn_seconds}, 0 disables (default 5)
 * @param outboxLagRebuildSeconds {@code outbox_lag_rebuild_seconds}, 0 disables, &ge; warn (default 10)
 * @param outboxLagRebuildFailures {@code outbox_lag_rebuild_failures}, &gt; 0 (default 3)
 * @param outboxBacklogRebuildRows {@code outbox_backlog_rebuild_rows}, 0 disables (default 10000)
 * @param fullRebuildIntervalSeconds {@code full_rebuild_interval_seconds}, 0 disables (default 300)
 */
public record SchedulingConfig(
        int stickySessionMaxWaiting,
        Duration stickySessionWaitTimeout,
        Duration fallbackWaitTimeout,
        int fallbackMaxWaiting,
        boolean loadBatchEnabled,
        Duration slotCleanupInterval,
        boolean dbFallbackEnabled,
        int dbFallbackTimeoutSeconds,
        int dbFallbackMaxQps,
        int outboxPollIntervalSeconds,
        int outboxLagWarnSeconds,
        int outboxLagRebuildSeconds,
        int outboxLagRebuildFailures,
        int outboxBacklogRebuildRows,
        int fullRebuildIntervalSeconds) {

    private static final String P = "gateway.scheduling.";

    /** sub2api's defaults. */
    public static final SchedulingConfig DEFAULTS = new SchedulingConfig(
            3,
            Duration.ofSeconds(120),
            Duration.ofSeconds(30),
            100,
            true,
            Duration.ofSeconds(30),
            true,
            0,
            0,
            1,
            5,
            10,
            3,
            10_000,
            300);

    public SchedulingConfig {
        positive("sticky_session_max_waiting", stickySessionMaxWaiting);
        positive("sticky_session_wait_timeout", stickySessionWaitTimeout);
        positive("fallback_wait_timeout", fallbackWaitTimeout);
        positive("fallback_max_waiting", fallbackMaxWaiting);
        nonNegative("slot_cleanup_interval", slotCleanupInterval);
        nonNegative("db_fallback_timeout_seconds", dbFallbackTimeoutSeconds);
        nonNegative("db_fallback_max_qps", dbFallbackMaxQps);
        positive("outbox_poll_interval_seconds", outboxPollIntervalSeconds);
        nonNegative("outbox_lag_warn_seconds", outboxLagWarnSeconds);
        nonNegative("outbox_lag_rebuild_seconds", outboxLagRebuildSeconds);
        positive("outbox_lag_rebuild_failures", outboxLagRebuildFailures);
        nonNegative("outbox_backlog_rebuild_rows", outboxBacklogRebuildRows);
        nonNegative("full_rebuild_interval_seconds", fullRebuildIntervalSeconds);
        if (outboxLagWarnSeconds > 0 && outboxLagRebuildSeconds > 0 && outboxLagRebuildSeconds < outboxLagWarnSeconds) {
            throw new ConfigException(
                    P + "outbox_lag_rebuild_seconds",
                    outboxLagRebuildSeconds,
                    "a value >= outbox_lag_warn_seconds (" + outboxLagWarnSeconds + ") or 0 to disable");
        }
    }

    private static void positive(String key, int v) {
        if (v <= 0) {
            throw new ConfigException(P + key, v, "an integer > 0");
        }
    }

    private static void nonNegative(String key, int v) {
        if (v < 0) {
            throw new ConfigException(P + key, v, "an integer >= 0");
        }
    }

    private static void positive(String key, Duration d) {
        // A wait plan with no time to wait would hand out tickets that expire at once: the request
        // queues for nothing. sub2api refuses these values too, so a shared file means the same here.
        if (d == null || d.isNegative() || d.isZero()) {
            throw new ConfigException(P + key, d, "a duration > 0 such as 30s");
        }
    }

    private static void nonNegative(String key, Duration d) {
        if (d == null || d.isNegative()) {
            throw new ConfigException(P + key, d, "a duration >= 0 such as 30s");
        }
    }

    /** A builder holding this SchedulingConfig's values, to change a few of them. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * Builds a {@link SchedulingConfig} from another one ({@link #toBuilder()}, usually of {@code DEFAULTS}), so
     * a caller that changes a few values does not spell the other ones. Not thread-safe.
     */
    public static final class Builder {
        private int stickySessionMaxWaiting;
        private Duration stickySessionWaitTimeout;
        private Duration fallbackWaitTimeout;
        private int fallbackMaxWaiting;
        private boolean loadBatchEnabled;
        private Duration slotCleanupInterval;
        private boolean dbFallbackEnabled;
        private int dbFallbackTimeoutSeconds;
        private int dbFallbackMaxQps;
        private int outboxPollIntervalSeconds;
        private int outboxLagWarnSeconds;
        private int outboxLagRebuildSeconds;
        private int outboxLagRebuildFailures;
        private int outboxBacklogRebuildRows;
        private int fullRebuildIntervalSeconds;

        private Builder(SchedulingConfig from) {
            this.stickySessionMaxWaiting = from.stickySessionMaxWaiting();
            this.stickySessionWaitTimeout = from.stickySessionWaitTimeout();
            this.fallbackWaitTimeout = from.fallbackWaitTimeout();
            this.fallbackMaxWaiting = from.fallbackMaxWaiting();
            this.loadBatchEnabled = from.loadBatchEnabled();
            this.slotCleanupInterval = from.slotCleanupInterval();
            this.dbFallbackEnabled = from.dbFallbackEnabled();
            this.dbFallbackTimeoutSeconds = from.dbFallbackTimeoutSeconds();
            this.dbFallbackMaxQps = from.dbFallbackMaxQps();
            this.outboxPollIntervalSeconds = from.outboxPollIntervalSeconds();
            this.outboxLagWarnSeconds = from.outboxLagWarnSeconds();
            this.outboxLagRebuildSeconds = from.outboxLagRebuildSeconds();
            this.outboxLagRebuildFailures = from.outboxLagRebuildFailures();
            this.outboxBacklogRebuildRows = from.outboxBacklogRebuildRows();
            this.fullRebuildIntervalSeconds = from.fullRebuildIntervalSeconds();
        }

        public Builder stickySessionMaxWaiting(int v) {
            this.stickySessionMaxWaiting = v;
            return this;
        }

        public Builder stickySessionWaitTimeout(Duration v) {
            this.stickySessionWaitTimeout = v;
            return this;
        }

        public Builder fallbackWaitTimeout(Duration v) {
            this.fallbackWaitTimeout = v;
            return this;
        }

        public Builder fallbackMaxWaiting(int v) {
            this.fallbackMaxWaiting = v;
            return this;
        }

        public Builder loadBatchEnabled(boolean v) {
            this.loadBatchEnabled = v;
            return this;
        }

        public Builder slotCleanupInterval(Duration v) {
            this.slotCleanupInterval = v;
            return this;
        }

        public Builder dbFallbackEnabled(boolean v) {
            this.dbFallbackEnabled = v;
            return this;
        }

        public Builder dbFallbackTimeoutSeconds(int v) {
            this.dbFallbackTimeoutSeconds = v;
            return this;
        }

        public Builder dbFallbackMaxQps(int v) {
            this.dbFallbackMaxQps = v;
            return this;
        }

        public Builder outboxPollIntervalSeconds(int v) {
            this.outboxPollIntervalSeconds = v;
            return this;
        }

        public Builder outboxLagWarnSeconds(int v) {
            this.outboxLagWarnSeconds = v;
            return this;
        }

        public Builder outboxLagRebuildSeconds(int v) {
            this.outboxLagRebuildSeconds = v;
            return this;
        }

        public Builder outboxLagRebuildFailures(int v) {
            this.outboxLagRebuildFailures = v;
            return this;
        }

        public Builder outboxBacklogRebuildRows(int v) {
            this.outboxBacklogRebuildRows = v;
            return this;
        }

        public Builder fullRebuildIntervalSeconds(int v) {
            this.fullRebuildIntervalSeconds = v;
            return this;
        }

        /** The SchedulingConfig; its constructor validates the values. */
        public SchedulingConfig build() {
            return new SchedulingConfig(
                    stickySessionMaxWaiting,
                    stickySessionWaitTimeout,
                    fallbackWaitTimeout,
                    fallbackMaxWaiting,
                    loadBatchEnabled,
                    slotCleanupInterval,
                    dbFallbackEnabled,
                    dbFallbackTimeoutSeconds,
                    dbFallbackMaxQps,
                    outboxPollIntervalSeconds,
                    outboxLagWarnSeconds,
                    outboxLagRebuildSeconds,
                    outboxLagRebuildFailures,
                    outboxBacklogRebuildRows,
                    fullRebuildIntervalSeconds);
        }
    }
}
