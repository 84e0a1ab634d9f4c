package dev.roster.core.selection;

/**
 * Events of the selector, for metrics (the server maps them to Micrometer). Every method has an empty
 * default; implementations must be thread-safe and must not block or throw.
 */
public interface SelectionMetrics {

    /** Metrics that count nothing. */
    SelectionMetrics NONE = new SelectionMetrics() {};

    /** A slot was acquired by {@code layer}. */
    default void acquired(Selection.Layer layer) {}

    /** A wait plan was returned by {@code layer} (sticky or fallback). */
    default void waitPlanned(Selection.Layer layer) {}

    /** Nothing was selected. */
    default void none(Selection.Reason reason) {}

    /** A request with a session found its binding usable (acquired or queued on it). */
    default void stickyHit() {}

    /** A request with a session had no live binding, or could not use it (excluded, saturated). */
    default void stickyMiss() {}

    /**
     * A session's bound account was passed over for one request for {@code cause}, its binding kept
     * (decision SP2-3); counted besides {@link #stickyMiss()}.
     */
    default void stickySkipped(StickySkip cause) {}

    /** A binding was dropped because its account stopped being a candidate. */
    default void stickyDrop() {}

    /** A slot acquisition found the account at its concurrency. */
    default void saturated() {}

    /** A report set or kept a cooldown of {@code kind}. */
    default void cooldownSet(CooldownKind kind) {}

    /** A report put an account into error status. */
    default void errorSet() {}
}
