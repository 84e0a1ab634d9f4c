package dev.roster.core.replay;

import dev.roster.core.config.ReplayConfig;
import dev.roster.core.outbox.OutboxSource;
import java.time.Instant;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes applied outbox rows older than {@code replay.retention}, at most every {@code
 * replay.retention_interval}, after a batch moved the watermark. A failure is logged and tried again
 * at the next interval: it only delays cleaning.
 */
final class OutboxRetention {
    private static final Logger LOG = LoggerFactory.getLogger(OutboxRetention.class);

    private final OutboxSource outbox;
    private final ReplayConfig config;
    private final Schedule schedule;

    OutboxRetention(OutboxSource outbox, ReplayConfig config) {
        this.outbox = Objects.requireNonNull(outbox, "outbox");
        this.config = Objects.requireNonNull(config, "config");
        this.schedule = new Schedule(config.retentionInterval(), true);
    }

    void run(Instant now, long watermark) {
        if (!schedule.due(now)) {
            return;
        }
        try {
            outbox.deleteApplied(watermark, config.retention(), config.retentionBatchSize());
        } catch (RuntimeException e) {
            LOG.warn("outbox retention failed: {}", e.getMessage());
        }
    }
}
