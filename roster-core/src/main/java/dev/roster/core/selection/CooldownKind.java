package dev.roster.core.selection;

/** Which cooldown deadline of an account a report moves; each maps to one column of {@code accounts}. */
public enum CooldownKind {
    /** A 429: {@code rate_limit_reset_at}. */
    RATE_LIMITED,
    /** A 529 or overload answer: {@code overload_until}. */
    OVERLOADED,
    /** An authentication failure or other temporary circuit break: {@code temp_unschedulable_until}. */
    TEMP_UNSCHEDULABLE
}
