package dev.roster.core.config;

import java.time.Duration;

/**
 * Roster's {@code replay} section: how the outbox replayer reads, retries and cleans up. Every
 * value is validated at construction; a {@link ConfigException} names the key and the value.
 *
 * @param batchSize {@code replay.batch_size}: events per outbox read, 1..100000 (default 5000: a bigger batch
 *     coalesces more events into each bucket rebuild, see decision S10)
 * @param maxApplied {@code replay.max_applied}: bound of the applied-id set above the watermark,
 *     &ge; batch size (default 10000)
 * @param maxAttempts {@code replay.max_attempts}: how often an event that keeps failing is tried
 *     before it is dead-lettered, &ge; 1 (default 5)
 * @param retryBackoff {@code replay.retry_backoff}: first delay before a failed batch is retried,
 *     positive (default 1 s); it doubles per failure
 * @param retryBackoffMax {@code replay.retry_backoff_max}: cap of that delay, &ge; retry_backoff
 *     (default 60 s)
 * @param retention {@code replay.retention}: applied events older than this are deleted (default 10 min)
 * @param retentionBatchSize {@code replay.retention_batch_size}: rows per delete statement, &ge; 1
 *     (default 5000)
 * @param retentionInterval {@code replay.retention_interval}: how often the lease holder runs the
 *     retention pass, positive (default 60 s)
 * @param rebuildParallelism {@code replay.rebuild_parallelism}: buckets rebuilt at once, 1..64
 *     (default 4)
 */
public record ReplayConfig(
        int batchSize,
        int maxApplied,
        int maxAttempts,
        Duration retryBackoff,
        Duration retryBackoffMax,
        Duration retention,
        int retentionBatchSize,
        Duration retentionInterval,
        int rebuildParallelism) {

    private static final String P = "replay.";

    /** The defaults. */
    public static final ReplayConfig DEFAULTS = new ReplayConfig(
            5_000,
            10_000,
            5,
            Duration.ofSeconds(1),
            Duration.ofSeconds(60),
            Duration.ofMinutes(10),
            5_000,
            Duration.ofSeconds(60),
            4);

    public ReplayConfig {
        range("batch_size", batchSize, 1, 100_000);
        if (maxApplied < batchSize) {
            throw new ConfigException(
                    P + "max_applied", maxApplied, "an integer >= replay.batch_size (" + batchSize + ")");
        }
        range("max_attempts", maxAttempts, 1, 1_000);
        positive("retry_backoff", retryBackoff);
        positive("retry_backoff_max", retryBackoffMax);
        if (retryBackoffMax.compareTo(retryBackoff) < 0) {
            throw new ConfigException(
                    P + "retry_backoff_max",
                    retryBackoffMax,
                    "a duration >= replay.retry_backoff (" + retryBackoff + ")");
        }
        if (retention == null || retention.isNegative()) {
            throw new ConfigException(P + "retention", retention, "a duration >= 0 such as 10m");
        }
        range("retention_batch_size", retentionBatchSize, 1, 1_000_000);
        positive("retention_interval", retentionInterval);
        range("rebuild_parallelism", rebuildParallelism, 1, 64);
    }

    /** A copy with another batch size (and max_applied raised to it when lower). */
    public ReplayConfig withBatchSize(int v) {
        return toBuilder().batchSize(v).maxApplied(Math.max(maxApplied, v)).build();
    }

    /** A copy with another attempt limit. */
    public ReplayConfig withMaxAttempts(int v) {
        return toBuilder().maxAttempts(v).build();
    }

    /** A copy with another retry back-off (first delay and cap). */
    public ReplayConfig withRetryBackoff(Duration first, Duration max) {
        return toBuilder().retryBackoff(first).retryBackoffMax(max).build();
    }

    /** The delay before retry number {@code failures} (1-based): back-off doubling up to the cap. */
    public Duration retryDelay(int failures) {
        Duration d = retryBackoff;
        for (int i = 1; i < failures && d.compareTo(retryBackoffMax) < 0; i++) {
            d = d.multipliedBy(2);
        }
        return d.compareTo(retryBackoffMax) > 0 ? retryBackoffMax : d;
    }

    private static void range(String key, int v, int min, int max) {
        if (v < min || v > max) {
            throw new ConfigException(P + key, v, "an integer between " + min + " and " + max);
        }
    }

    private static void positive(String key, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new ConfigException(P + key, d, "a positive duration such as 1s");
        }
    }

    /** A builder holding this ReplayConfig's values, to change a few of them. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * Builds a {@link ReplayConfig} from another one ({@link #toBuilder()}, usually of {@code DEFAULTS}), so
     * a caller that changes a few values does not spell the other ones. Not thread-safe.
     */
    public static final class Builder {
        private int batchSize;
        private int maxApplied;
        private int maxAttempts;
        private Duration retryBackoff;
        private Duration retryBackoffMax;
        private Duration retention;
        private int retentionBatchSize;
        private Duration retentionInterval;
        private int rebuildParallelism;

        private Builder(ReplayConfig from) {
            this.batchSize = from.batchSize();
            this.maxApplied = from.maxApplied();
            this.maxAttempts = from.maxAttempts();
            this.retryBackoff = from.retryBackoff();
            this.retryBackoffMax = from.retryBackoffMax();
            this.retention = from.retention();
            this.retentionBatchSize = from.retentionBatchSize();
            this.retentionInterval = from.retentionInterval();
            this.rebuildParallelism = from.rebuildParallelism();
        }

        public Builder batchSize(int v) {
            this.batchSize = v;
            return this;
        }

        public Builder maxApplied(int v) {
            this.maxApplied = v;
            return this;
        }

        public Builder maxAttempts(int v) {
            this.maxAttempts = v;
            return this;
        }

        public Builder retryBackoff(Duration v) {
            this.retryBackoff = v;
            return this;
        }

        public Builder retryBackoffMax(Duration v) {
            this.retryBackoffMax = v;
            return this;
        }

        public Builder retention(Duration v) {
            this.retention = v;
            return this;
        }

        public Builder retentionBatchSize(int v) {
            this.retentionBatchSize = v;
            return this;
        }

        public Builder retentionInterval(Duration v) {
            this.retentionInterval = v;
            return this;
        }

        public Builder rebuildParallelism(int v) {
            this.rebuildParallelism = v;
            return this;
        }

        /** The ReplayConfig; its constructor validates the values. */
        public ReplayConfig build() {
            return new ReplayConfig(
                    batchSize,
                    maxApplied,
                    maxAttempts,
                    retryBackoff,
                    retryBackoffMax,
                    retention,
                    retentionBatchSize,
                    retentionInterval,
                    rebuildParallelism);
        }
    }
}
