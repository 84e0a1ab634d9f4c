package dev.roster.core.selection;

import java.time.Instant;
import java.util.Objects;

/** The outcome of one atomic slot acquisition in a {@link SelectionStore}. */
public sealed interface SlotAttempt {

    /**
     * A slot was taken.
     *
     * @param lease the held slot
     * @param inFlight the account's live slots with this one, as the store counted them in the same
     *     atomic step (a selector's load view learns the shared count from it), or -1 when not reported
     */
    record Granted(SlotLease lease, int inFlight) implements SlotAttempt {
        public Granted {
            Objects.requireNonNull(lease, "lease");
        }

        /** A grant without the count. */
        public Granted(SlotLease lease) {
            this(lease, -1);
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

    /**
     * The account's requests-per-minute limit is used up: the sliding 60 s window already holds as many
     * acquisitions as {@code rpm_limit} allows (decision S4 under "One-round-trip selection and new card
     * fields").
     *
     * @param until when the oldest acquisition in the window leaves it, freeing a place
     */
    record RpmFull(Instant until) implements SlotAttempt {
        public RpmFull {
            Objects.requireNonNull(until, "until");
        }
    }
}
