package dev.roster.core;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The time-based half of the bucket query Q (design §1). Snapshots hold only the durable part; this
 * is applied when reading, against the application clock, so an account returns the instant its
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
}
