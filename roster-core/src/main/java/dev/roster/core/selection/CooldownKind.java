package dev.roster.core.selection;

/**
 * Which cooldown deadline a report moves. The account-wide kinds map to one column of {@code accounts}
 * each; {@link #MODEL_UNSUPPORTED} is per (account, model) and lives in the shared store only.
 */
public enum CooldownKind {
    /** A 429 or an exhausted quota: {@code rate_limit_reset_at}. */
    RATE_LIMITED,
    /** A 529, 503 or overload answer: {@code overload_until}. */
    OVERLOADED,
    /** An authentication failure or other temporary circuit break: {@code temp_unschedulable_until}. */
    TEMP_UNSCHEDULABLE,
    /**
     * A model the account refused: only that model cools down on that account. No column (the schema has
     * no per-model deadline); kept in the shared store for the cooldown's length.
     */
    MODEL_UNSUPPORTED;

    /** Whether the deadline is account-wide (and persisted to a column of {@code accounts}). */
    public boolean accountWide() {
        return this != MODEL_UNSUPPORTED;
    }
}
