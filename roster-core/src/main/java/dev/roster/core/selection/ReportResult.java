package dev.roster.core.selection;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * What {@link Selector#report} did.
 *
 * @param accountId the account
 * @param action what changed
 * @param kind the cooldown deadline moved, or {@code null} when none was
 * @param until the deadline now in force for {@code kind} (a later one already stored wins), or {@code
 *     null}
 * @param persisted whether the change also reached the source of truth ({@code true} when nothing had to
 *     be persisted, as for a per-model cooldown)
 * @param model for {@link CooldownKind#MODEL_UNSUPPORTED}, the model cooling down, else {@code null}
 * @param streak for an escalating cooldown, the consecutive failures of its class counted so far (1 for
 *     the first), else 0
 */
public record ReportResult(
        long accountId,
        Action action,
        @Nullable CooldownKind kind,
        @Nullable Instant until,
        boolean persisted,
        @Nullable String model,
        int streak) {

    /** A result without model or streak. */
    public ReportResult(
            long accountId, Action action, @Nullable CooldownKind kind, @Nullable Instant until, boolean persisted) {
        this(accountId, action, kind, until, persisted, null, 0);
    }

    /** What a report changed. */
    public enum Action {
        /** Nothing (success or an outcome without a cooldown). */
        NONE,
        /** A cooldown deadline was set or kept (if a later one was already stored). */
        COOLDOWN,
        /** The account was put into error status, with a temporary cooldown until the snapshots drop it. */
        ERROR
    }
}
