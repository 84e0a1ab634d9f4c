package dev.roster.core.internal;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What this instance knows of the projection's generation, as one immutable value: a reader never
 * sees the id of one state with the readiness or the abandoned id of another. Transitions return a
 * new state; {@link CurrentGeneration} swaps them atomically.
 *
 * @param id the generation snapshots are published under and accepted from
 * @param ready whether the projection under {@code id} is known current: the stored generation was
 *     verified (adopted) or a full rebuild finished
 * @param abandoned a generation never to adopt again although it may still be stored (its store changed
 *     under it and a rebuild under a new generation is replacing it), or {@code null}
 */
public record GenerationState(
        String id, boolean ready, @Nullable String abandoned) {

    public GenerationState {
        Objects.requireNonNull(id, "id");
    }

    /** The state at start: a fresh id nobody else publishes under, not ready, nothing abandoned. */
    public static GenerationState initial(String freshId) {
        return new GenerationState(freshId, false, null);
    }

    /** Whether a snapshot stamped {@code generation} may be served in this state. */
    public boolean accepts(String generation) {
        return id.equals(generation);
    }

    /** Whether {@code generation} may be adopted from the store (it was not abandoned). */
    public boolean mayAdopt(String generation) {
        return !generation.equals(abandoned);
    }

    /**
     * The stored generation {@code generation} was found made for these settings: serve it, ready.
     *
     * @throws IllegalStateException when {@code generation} was abandoned
     */
    public GenerationState adopted(String generation) {
        if (!mayAdopt(generation)) {
            throw new IllegalStateException("generation " + generation + " was abandoned and cannot be adopted");
        }
        return new GenerationState(generation, true, abandoned);
    }

    /**
     * A full rebuild under {@code target} began: publish under it from now on (readiness unchanged:
     * a rebuild of a current projection keeps serving). {@code abandoning}, when not {@code null}, is
     * the stored generation the rebuild replaces and that must never be adopted back.
     */
    public GenerationState rebuildStarted(String target, @Nullable String abandoning) {
        Objects.requireNonNull(target, "target");
        return new GenerationState(target, ready, abandoning != null ? abandoning : abandoned);
    }

    /**
     * A full rebuild under {@code target} finished: the projection is current under it. When this
     * instance moved to another generation meanwhile (it adopted one another instance stored during
     * the run, and adoption made it ready), that one stays: going back to {@code target} would undo a
     * newer decision.
     */
    public GenerationState rebuilt(String target) {
        Objects.requireNonNull(target, "target");
        return id.equals(target) ? new GenerationState(id, true, abandoned) : this;
    }

    /** The stored generation is missing or made for other settings: not current until rebuilt. */
    public GenerationState notCurrent() {
        return new GenerationState(id, false, abandoned);
    }
}
