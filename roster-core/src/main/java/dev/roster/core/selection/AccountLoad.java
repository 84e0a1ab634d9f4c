package dev.roster.core.selection;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * One account's shared state at one instant: live slots, live wait tickets and the latest cooldown
 * deadline still in the future.
 *
 * @param inFlight slots held and not expired
 * @param waiting wait tickets held and not expired
 * @param coolingUntil the latest cooldown deadline after now, or {@code null} when none applies
 * @param quota the quota windows reported and not yet reset ({@link QuotaUsage#NONE} when none; decision SP4)
 */
public record AccountLoad(
        int inFlight, int waiting, @Nullable Instant coolingUntil, QuotaUsage quota) {
    /** An account nobody uses. */
    public static final AccountLoad IDLE = new AccountLoad(0, 0, null);

    public AccountLoad {
        java.util.Objects.requireNonNull(quota, "quota");
    }

    /** A load without quota reports. */
    public AccountLoad(int inFlight, int waiting, @Nullable Instant coolingUntil) {
        this(inFlight, waiting, coolingUntil, QuotaUsage.NONE);
    }

    /**
     * sub2api's load rate: {@code floor((inFlight + waiting) * 100 / concurrency)}, or 0 when the
     * concurrency is not positive (unlimited).
     */
    public int loadRate(int concurrency) {
        if (concurrency <= 0) {
            return 0;
        }
        return (int) Math.min(Integer.MAX_VALUE, ((long) inFlight + waiting) * 100 / concurrency);
    }
}
