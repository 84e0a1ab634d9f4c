package dev.roster.core.internal;

import dev.roster.core.nearcache.GenerationGate;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.Projection;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * The generation this instance publishes under and serves: one {@link GenerationState} swapped
 * atomically by named transitions, shared by the hot path, the near cache, the replayer and the full
 * rebuild (each is given this object; nobody sets an id or a flag on its own).
 *
 * <p>{@link #accepts} reads the state and nothing else. A new generation built by another instance is
 * adopted only by reading the stored generation, which happens off the hot path: on the near cache's
 * load, refresh and check paths ({@link #adoptIfStored}), on the service's projection read when there
 * is no near cache, and on every poll of the replay thread ({@link #adoptStored}), holder or not.
 *
 * <p>Thread-safe.
 */
public final class CurrentGeneration implements GenerationGate {
    private final Projection projection;
    private final String fingerprint;
    private final AtomicReference<GenerationState> state;

    /**
     * Starts not ready under a fresh random id: until the projection's generation is known, this
     * instance publishes under an id nobody accepts, so nothing unverified is served.
     *
     * @param fingerprint the fingerprint of the settings that shape snapshots ({@link
     *     Engine#fingerprintOf})
     */
    public CurrentGeneration(Projection projection, String fingerprint) {
        this.projection = Objects.requireNonNull(projection, "projection");
        this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
        this.state = new AtomicReference<>(
                GenerationState.initial(Generation.random(fingerprint).id()));
    }

    /** The current state (one consistent value). */
    public GenerationState state() {
        return current();
    }

    private GenerationState current() {
        // Never null: set in the constructor and only ever replaced by non-null states.
        return Objects.requireNonNull(state.get(), "state");
    }

    /** The generation id snapshots are published under and accepted from. */
    public String id() {
        return current().id();
    }

    /** Whether the projection has been verified current (or fully rebuilt) since start. */
    public boolean ready() {
        return current().ready();
    }

    /** Whether a snapshot stamped {@code generation} may be served. No I/O. */
    @Override
    public boolean accepts(String generation) {
        return current().accepts(generation);
    }

    /**
     * Adopts {@code stored} when it was made for these settings and was not abandoned; returns whether
     * this instance now serves it, ready.
     */
    public boolean adopt(Generation stored) {
        Objects.requireNonNull(stored, "stored");
        if (!stored.matches(fingerprint)) {
            return false;
        }
        GenerationState s = state.updateAndGet(cur -> cur.mayAdopt(stored.id()) ? cur.adopted(stored.id()) : cur);
        return s.ready() && s.accepts(stored.id());
    }

    /**
     * Reads the stored generation and {@linkplain #adopt adopts} it; returns whether it did.
     *
     * @throws dev.roster.core.projection.ProjectionException when the projection cannot be read
     */
    public boolean adoptStored() {
        Optional<Generation> stored = projection.generation().value();
        return stored.isPresent() && adopt(stored.get());
    }

    /**
     * Whether {@code generation} is served, reading the stored generation (one projection read) only
     * when it is neither the current nor the abandoned one, and adopting it when it is the stored one.
     *
     * @throws dev.roster.core.projection.ProjectionException when the projection cannot be read
     */
    @Override
    public boolean adoptIfStored(String generation) {
        GenerationState s = current();
        if (s.accepts(generation)) {
            return true;
        }
        if (!s.mayAdopt(generation)) {
            return false;
        }
        Optional<Generation> stored = projection.generation().value();
        return stored.isPresent() && stored.get().id().equals(generation) && adopt(stored.get());
    }

    /**
     * A full rebuild under {@code target} began; {@code abandoning} (or {@code null}) is the stored
     * generation it replaces because that one's store changed, never to be adopted back.
     */
    public void rebuildStarted(String target, @Nullable String abandoning) {
        state.updateAndGet(cur -> cur.rebuildStarted(target, abandoning));
    }

    /** A full rebuild under {@code target} finished: ready under it, unless another generation was adopted meanwhile. */
    public void rebuilt(String target) {
        state.updateAndGet(cur -> cur.rebuilt(target));
    }

    /** The stored generation is missing or made for other settings: not ready until a rebuild. */
    public void notCurrent() {
        state.updateAndGet(GenerationState::notCurrent);
    }
}
