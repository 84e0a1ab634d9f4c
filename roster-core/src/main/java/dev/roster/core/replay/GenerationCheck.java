package dev.roster.core.replay;

import dev.roster.core.internal.CurrentGeneration;
import dev.roster.core.internal.Engine;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.StoreOrigin;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lease holder's check of the stored generation, once per poll: adopts it when it was made for
 * these settings, and requests a full rebuild (under a new generation) when it is missing, was made
 * for other settings, or its store changed under it (a promoted replica or a restart from disk may
 * lack writes its predecessor acknowledged, so a version could be handed out twice). While such a
 * rebuild is pending nothing is checked; a failed one is requested again after a back-off.
 */
final class GenerationCheck {
    private static final Logger LOG = LoggerFactory.getLogger(GenerationCheck.class);

    private final Engine engine;
    private final CurrentGeneration generation;
    private final FullRebuilder rebuilder;
    private final Backoff backoff = new Backoff(LagMonitor::retryDelay);
    private volatile boolean rebuildPending;

    GenerationCheck(Engine engine, CurrentGeneration generation, FullRebuilder rebuilder) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.generation = Objects.requireNonNull(generation, "generation");
        this.rebuilder = Objects.requireNonNull(rebuilder, "rebuilder");
    }

    void run(Instant now) {
        if (rebuildPending && !rebuilder.busy()) {
            rebuildPending = false;
        }
        if (rebuildPending || backoff.waiting(now)) {
            return;
        }
        Optional<Generation> stored;
        StoreOrigin origin;
        try {
            stored = engine.projection().generation().value();
            origin = stored.isPresent() ? engine.projection().origin() : StoreOrigin.UNTRACKED;
        } catch (RuntimeException e) {
            // The projection is unreachable: the batch below fails the same way and is retried.
            LOG.debug("generation check skipped: {}", e.getMessage());
            return;
        }
        boolean matches = stored.isPresent() && stored.get().matches(engine.fingerprint());
        if (matches && origin.changed()) {
            // Serving goes on under the old generation; a new one replaces it.
            LOG.warn(
                    "the projection's store changed (now {}, generation stamped on {}): full rebuild under a new generation",
                    origin.current(),
                    origin.stamped());
            rebuildPending = true;
            // The outcome is handled in rebuilt; the stage whenComplete returns is not needed.
            var unused = rebuilder.requestNewGeneration("store_changed").whenComplete((v, e) -> rebuilt(e));
            return;
        }
        if (matches) {
            generation.adopt(stored.get());
            return;
        }
        generation.notCurrent();
        rebuildPending = true;
        var unused = rebuilder
                .request(stored.isEmpty() ? "generation_missing" : "generation_changed")
                .whenComplete((v, e) -> rebuilt(e));
    }

    private void rebuilt(@Nullable Throwable e) {
        if (e == null) {
            backoff.succeeded();
        } else {
            backoff.failed(engine.clock().instant());
        }
    }
}
