package dev.roster.core.projection;

import org.jspecify.annotations.Nullable;

/**
 * Which store process answers the projection now, beside the one the stored generation was stamped
 * on (a Redis failover that may have lost writes gets a new generation and a full
 * rebuild). A replica promoted by a failover, or a server restarted from its persistence files, may
 * lack the last writes acknowledged by its predecessor, so a bucket's version counter can hand out a
 * version again, for different content; a reader that already holds that version would take the new
 * one for the one it has. A different process therefore means: rebuild under a new generation.
 *
 * @param current an opaque identity of the process answering now (Redis: its {@code run_id}), or
 *     {@code null} when the store cannot tell (then continuity is not tracked)
 * @param stamped the identity recorded with the stored generation, or {@code null} when none is
 *     recorded (no generation, or one written by a version of Roster that did not record it)
 */
public record StoreOrigin(
        @Nullable String current, @Nullable String stamped) {
    /** A store that does not track its process identity (it cannot lose acknowledged writes alone). */
    public static final StoreOrigin UNTRACKED = new StoreOrigin(null, null);

    /**
     * Whether the store answering now is not the one the generation was stamped on, so writes since
     * may be lost. An untracked store never reports a change.
     */
    public boolean changed() {
        return current != null && !current.equals(stamped);
    }
}
