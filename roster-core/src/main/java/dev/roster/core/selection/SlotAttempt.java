package dev.roster.core.selection;

import java.time.Instant;
import java.util.Objects;

/** The outcome of one atomic slot acquisition in a {@link SelectionStore}. */
public sealed interface SlotAttempt {

    /**
     * A slot was taken.
     *
     * @param lease the held slot
     */
    record Granted(SlotLease lease) implements SlotAttempt {
        public Granted {
            Objects.requireNonNull(lease, "lease");
        }
    }

    /**
     * Every slot is held.
     *
     * @param inFlight the live slots counted
     */
    record Full(int inFlight) implements SlotAttempt {}

    /**
     * A cooldown applies (reported by some instance since the candidates were read).
     *
     * @param until when it ends
     */
    record CoolingDown(Instant until) implements SlotAttempt {
        public CoolingDown {
            Objects.requireNonNull(until, "until");
        }
    }
}
