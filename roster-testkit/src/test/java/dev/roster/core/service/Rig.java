package dev.roster.core.service;

import dev.roster.core.RunMode;
import dev.roster.core.config.ReplayConfig;
import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.outbox.OutboxEvent;
import dev.roster.testkit.TestClock;
import dev.roster.testkit.fake.InMemoryProjection;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A service over {@link FakeStore} and {@link InMemoryProjection} on a fake clock, driven step by step. */
final class Rig implements AutoCloseable {
    static final Instant T0 = Instant.parse("2026-03-01T12:00:00Z");

    final TestClock clock = TestClock.at(T0);
    final FakeStore store = new FakeStore(clock);
    final InMemoryProjection projection = new InMemoryProjection(clock, Duration.ofSeconds(60));
    final List<String> deadLetters = new CopyOnWriteArrayList<>();
    final List<OutboxEvent> deadEvents = new CopyOnWriteArrayList<>();
    ServiceConfig config;
    SnapshotService service;
    /** What the service sees of {@link #projection} (a test may put a decorator in between). */
    java.util.function.UnaryOperator<dev.roster.core.projection.Projection> decorate = p -> p;

    Rig(ServiceConfig config) {
        this.config = config;
    }

    static Rig standard() {
        return new Rig(ServiceConfig.DEFAULTS.withReplay(fastRetries()));
    }

    static ReplayConfig fastRetries() {
        return ReplayConfig.DEFAULTS.withMaxAttempts(3).withRetryBackoff(Duration.ofSeconds(1), Duration.ofSeconds(8));
    }

    Rig simple() {
        config = config.withRunMode(RunMode.SIMPLE);
        return this;
    }

    Rig scheduling(Sched s) {
        config = config.withScheduling(s.build());
        return this;
    }

    Rig replay(ReplayConfig r) {
        config = config.withReplay(r);
        return this;
    }

    SnapshotService build() {
        service = SnapshotService.newBuilder()
                .source(store)
                .projection(decorate.apply(projection))
                .config(config)
                .clock(clock)
                .inlineRebuilds(true)
                .deadLetters((e, error, attempts) -> {
                    deadEvents.add(e);
                    deadLetters.add(e.id() + ":" + attempts + ":" + error);
                })
                .build();
        return service;
    }

    /** Builds the service and runs the first poll (the startup full rebuild on a fresh projection). */
    SnapshotService started() {
        build();
        service.replayer().drain();
        return service;
    }

    @Override
    public void close() {
        if (service != null) {
            service.close();
        }
    }

    /** A mutable view of {@link SchedulingConfig} for tests. */
    static final class Sched {
        boolean fallbackEnabled = true;
        int fallbackTimeoutSeconds = 0;
        int fallbackMaxQps = 0;
        int pollSeconds = 1;
        int lagWarn = 5;
        int lagRebuild = 10;
        int lagFailures = 3;
        int backlogRows = 10_000;
        int fullRebuildInterval = 300;

        SchedulingConfig build() {
            return SchedulingConfig.DEFAULTS.toBuilder()
                    .dbFallbackEnabled(fallbackEnabled)
                    .dbFallbackTimeoutSeconds(fallbackTimeoutSeconds)
                    .dbFallbackMaxQps(fallbackMaxQps)
                    .outboxPollIntervalSeconds(pollSeconds)
                    .outboxLagWarnSeconds(lagWarn)
                    .outboxLagRebuildSeconds(lagRebuild)
                    .outboxLagRebuildFailures(lagFailures)
                    .outboxBacklogRebuildRows(backlogRows)
                    .fullRebuildIntervalSeconds(fullRebuildInterval)
                    .build();
        }
    }
}
