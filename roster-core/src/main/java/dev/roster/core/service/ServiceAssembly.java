package dev.roster.core.service;

import dev.roster.core.config.ServiceConfig;
import dev.roster.core.internal.CurrentGeneration;
import dev.roster.core.internal.Engine;
import dev.roster.core.nearcache.NearCache;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ProjectionException;
import dev.roster.core.replay.DeadLetterSink;
import dev.roster.core.replay.FullRebuilder;
import dev.roster.core.replay.LagMonitor;
import dev.roster.core.replay.LeaseKeeper;
import dev.roster.core.replay.Replayer;
import dev.roster.core.source.SchedulingSource;
import java.time.InstantSource;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root of one snapshot service: builds every part from the builder's inputs and wires
 * each to the collaborators it is given (nothing looks another part up). Holds the parts; runs
 * nothing. {@link SnapshotService} is the facade over them.
 */
final class ServiceAssembly {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceAssembly.class);

    final SchedulingSource source;
    final Projection projection;
    final ServiceConfig config;
    final InstantSource clock;
    final CurrentGeneration generation;
    final ServiceThreads threads;
    final Engine engine;
    final LeaseKeeper leases;
    final FullRebuilder rebuilder;
    final Replayer replayer;
    final DatabaseFallback fallback;
    final SnapshotReader reader;
    final LastUsedWriteBehind lastUsed;
    final ServingDigestPublisher serving;

    /**
     * @param deadLetters where dead events go, or {@code null} to only log them
     * @param lastUsedWriter where last-used times are written behind, or {@code null} for none
     * @param inlineRebuilds run full rebuilds on the requesting thread (step-driven tests)
     */
    ServiceAssembly(
            SchedulingSource source,
            Projection projection,
            ServiceConfig config,
            InstantSource clock,
            @Nullable DeadLetterSink deadLetters,
            @Nullable LastUsedWriter lastUsedWriter,
            boolean inlineRebuilds) {
        this.source = Objects.requireNonNull(source, "source");
        this.projection = Objects.requireNonNull(projection, "projection");
        this.config = Objects.requireNonNull(config, "config");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.generation = new CurrentGeneration(projection, Engine.fingerprintOf(config));
        this.threads = new ServiceThreads(config.replay().rebuildParallelism(), inlineRebuilds);
        this.engine = new Engine(source, projection, config, clock, generation, threads.bucketPool());
        this.leases = new LeaseKeeper(
                projection,
                clock,
                config.projection().leaseTtl(),
                config.projection().leaseRenew());
        this.rebuilder = new FullRebuilder(engine, generation, source.outbox(), leases, threads.rebuildExecutor());
        // A rebuild's model is adopted between two batches: wake the replay thread for it.
        rebuilder.onHandOver(threads::wake);
        LagMonitor lag = new LagMonitor(config.scheduling(), clock, rebuilder::request);
        DeadLetterSink sink = deadLetters != null
                ? deadLetters
                : (e, error, attempts) -> LOG.error("outbox event {} dead (no dead-letter store): {}", e.id(), error);
        this.replayer = new Replayer(engine, generation, source.outbox(), leases, rebuilder, lag, sink);
        this.fallback = new DatabaseFallback(
                source,
                projection,
                config.scheduling(),
                clock,
                engine,
                generation,
                threads::nearCache,
                threads.fallbackPool());
        this.reader = new SnapshotReader(
                projection,
                config.runMode(),
                clock,
                generation,
                threads::nearCache,
                fallback,
                config.nearCache().maxBuckets());
        this.lastUsed = new LastUsedWriteBehind(projection, lastUsedWriter);
        this.serving = new ServingDigestPublisher(projection, clock, generation, threads::nearCache);
    }

    /** What {@link ServiceThreads#start} runs for this service. */
    ServiceThreads.Work work() {
        return new ServiceThreads.Work(
                this::adoptStoredGeneration,
                replayer::pollOnce,
                leases::current,
                () -> config.nearCache().enabled()
                        ? new NearCache(projection, generation, clock, config.nearCache()).start()
                        : null,
                serving::publishQuietly,
                lastUsed.writesBehind() ? lastUsed::flushQuietly : null);
    }

    private void adoptStoredGeneration() {
        try {
            generation.adoptStored();
        } catch (ProjectionException e) {
            // Not a start failure: the service starts not ready and the replay loop retries.
            LOG.warn("projection unavailable at start: {}", e.getMessage());
        }
    }

    /** When {@link ServiceThreads#start} runs it. */
    ServiceThreads.Timing timing() {
        return new ServiceThreads.Timing(
                java.time.Duration.ofSeconds(config.scheduling().outboxPollIntervalSeconds()),
                config.projection().leaseRenew(),
                ServingDigestPublisher.INTERVAL,
                config.nearCache().lastUsedFlushInterval());
    }
}
