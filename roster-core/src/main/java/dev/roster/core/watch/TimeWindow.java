package dev.roster.core.watch;

import dev.roster.core.AccountCard;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * When the time filter's answer over a fixed list of durable cards next changes. Within one (generation,
 * version) a bucket's cards do not change, but the time filter ({@link dev.roster.core.TimeFilter}) lets
 * a card in once its last rate-limit, overload or temporary block ends, and takes it out when an expiry
 * with auto-pause is reached; between two such instants the answer is the same, so a watcher only needs
 * to look again at the next one.
 */
public final class TimeWindow {
    private TimeWindow() {}

    /**
     * The first instant after {@code now} at which some card of {@code durable} starts or stops passing
     * the time filter, or {@code null} when none ever will (without a new version).
     */
    public static @Nullable Instant nextChange(List<AccountCard> durable, Instant now) {
        Instant next = null;
        for (int i = 0, n = durable.size(); i < n; i++) {
            Instant t = nextChange(durable.get(i), now);
            if (t != null && (next == null || t.isBefore(next))) {
                next = t;
            }
        }
        return next;
    }

    /**
     * A card passes the time filter exactly on {@code [from, until)}: {@code from} is the end of its
     * latest block (blocks end at their instant), {@code until} its expiry when auto-pause is on. It
     * changes at whichever of the two lies after {@code now}, if that interval is not empty.
     */
    static @Nullable Instant nextChange(AccountCard c, Instant now) {
        Instant from = latest(latest(c.rateLimitResetAt(), c.overloadUntil()), c.tempUnschedulableUntil());
        Instant until = c.autoPauseOnExpired() ? c.expiresAt() : null;
        if (from != null && until != null && !from.isBefore(until)) {
            // Blocked until after it expires: never in the answer.
            return null;
        }
        if (from != null && from.isAfter(now)) {
            return from;
        }
        if (until != null && until.isAfter(now)) {
            return until;
        }
        return null;
    }

    private static @Nullable Instant latest(@Nullable Instant a, @Nullable Instant b) {
        if (a == null) {
            return b;
        }
        return b == null || a.isAfter(b) ? a : b;
    }
}
