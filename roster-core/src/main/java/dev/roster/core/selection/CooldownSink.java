package dev.roster.core.selection;

import java.time.Instant;

/**
 * Where cooldowns go after the shared store: the source of truth (PostgreSQL), so capture and replay
 * bring them into snapshots and they survive a Redis flush. Implementations must keep the "only
 * extend" rule themselves (e.g. {@code GREATEST} in SQL), because reports of several instances may
 * arrive out of order. Failures are thrown; the selector logs them and reports {@code persisted=false}
 * (the store already holds the cooldown).
 */
public interface CooldownSink {

    /** A sink that persists nothing (tests, or a deployment without a database). */
    CooldownSink NONE = new CooldownSink() {
        @Override
        public void extend(long accountId, CooldownKind kind, Instant until) {}

        @Override
        public void markError(long accountId, String message) {}
    };

    /** Moves the account's {@code kind} deadline to {@code until} unless it is already later. */
    void extend(long accountId, CooldownKind kind, Instant until);

    /**
     * Sets the account's status to {@code error} (an administrator must re-enable it), as sub2api does for
     * credentials the upstream refuses for good.
     */
    void markError(long accountId, String message);
}
