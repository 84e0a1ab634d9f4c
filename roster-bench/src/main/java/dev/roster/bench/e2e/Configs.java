package dev.roster.bench.e2e;

import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.config.ServiceConfig;

/** Service configurations of the scenarios: the defaults with the named changes only. */
final class Configs {
    private Configs() {}

    /**
     * The defaults without the self-healing full rebuilds (backlog rows, lag, interval). A replay
     * measurement must measure replay: a backlog-triggered full rebuild would fast-forward the
     * watermark past rows the replayer never applied and inflate rows/s.
     */
    static ServiceConfig replayOnly() {
        return ServiceConfig.DEFAULTS.withScheduling(scheduling(SchedulingConfig.DEFAULTS, 0, 0, 0, 0));
    }

    static SchedulingConfig scheduling(
            SchedulingConfig d, int dbFallbackMaxQps, int lagRebuildSeconds, int backlogRows, int fullIntervalSeconds) {
        return d.toBuilder()
                .dbFallbackMaxQps(dbFallbackMaxQps)
                .outboxLagWarnSeconds(
                        lagRebuildSeconds == 0
                                ? d.outboxLagWarnSeconds()
                                : Math.min(d.outboxLagWarnSeconds(), lagRebuildSeconds))
                .outboxLagRebuildSeconds(lagRebuildSeconds)
                .outboxBacklogRebuildRows(backlogRows)
                .fullRebuildIntervalSeconds(fullIntervalSeconds)
                .build();
    }
}
