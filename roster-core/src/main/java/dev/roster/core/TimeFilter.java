package dev.roster.core;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The time-based half of the bucket query Q (docs/architecture.md, "The bucket query"). Snapshots hold only the durable
 * part; this is applied when reading, against the application clock, so an account returns the instant its
 * block ends without any event.
 */
public final class TimeFilter {
    private TimeFilter() {}

    /**
     * The cards of {@code durable} that no time-based block excludes at {@code now}, in their order.
     * Returns {@code durable} itself when nothing is excluded, so a warm read allocates nothing.
     */
    public static List<AccountCard> apply(List<AccountCard> durable, Instant now) {
        int n = durable.size();
        for (int i = 0; i < n; i++) {
            if (!durable.get(i).availableAt(now)) {
                List<AccountCard> out = new ArrayList<>(n - 1);
                for (int j = 0; j < i; j++) {
                    out.add(durable.get(j));
                }
                for (int j = i + 1; j < n; j++) {
                    AccountCard c = durable.get(j);
                    if (c.availableAt(now)) {
                        out.add(c);
                    }
                }
                return List.copyOf(out);
            }
        }
        return durable;
    }

    /**
     * The interval around {@code now} over which {@link #apply} gives the same answer for {@code durable}:
     * every instant at which some card's time block starts or ends splits the time line, and the filter's
     * result is constant between two consecutive such instants.
     *
     * @return {@code [from, until)} containing {@code now}; {@code from} is {@code null} when no boundary is
     *     at or before {@code now}, {@code until} is {@code null} when none is after it
     */
    public static Window window(List<AccountCard> durable, Instant now) {
        @Nullable Instant from = null;
        @Nullable Instant until = null;
        for (int i = 0, n = durable.size(); i < n; i++) {
            AccountCard c = durable.get(i);
            // The instants at which timeBlockAt can change its mind for this card.
            for (int k = 0; k < 4; k++) {
                @Nullable
                Instant b = switch (k) {
                    case 0 -> c.rateLimitResetAt();
                    case 1 -> c.overloadUntil();
                    case 2 -> c.tempUnschedulableUntil();
                    default -> c.autoPauseOnExpired() ? c.expiresAt() : null;
                };
                if (b == null) {
                    continue;
                }
                if (b.isAfter(now)) {
                    if (until == null || b.isBefore(until)) {
                        until = b;
                    }
                } else if (from == null || b.isAfter(from)) {
                    from = b;
                }
            }
        }
        return new Window(from, until);
    }

    /**
     * A half-open interval of time over which the time filter's answer does not change.
     *
     * @param from first instant of the interval, or {@code null} for "since ever"
     * @param until first instant after the interval, or {@code null} for "until the cards change"
     */
    public record Window(@Nullable Instant from, @Nullable Instant until) {
        /** Whether {@code t} is in the interval. */
        public boolean contains(Instant t) {
            return (from == null || !t.isBefore(from)) && (until == null || t.isBefore(until));
        }
    }
}
