package dev.roster.core.selection;

import java.util.Locale;

/**
 * Why the sticky layer passed over a session's bound account for one request while keeping the binding
 * (decision SP2-3): the session returns to the account at its next request if the cause is gone.
 */
public enum StickySkip {
    /** Its reported error rate is above {@code selection.sticky.max_error_percent}. */
    ERROR_RATE,
    /** Its reported time-to-first-token is above {@code selection.sticky.max_ttft}. */
    SLOW,
    /** It is at its concurrency and its sticky wait queue is full (or waits are off). */
    FULL,
    /** Its requests-per-minute window is full. */
    RPM_FULL;

    /** The metric tag value: the constant in lower case. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
