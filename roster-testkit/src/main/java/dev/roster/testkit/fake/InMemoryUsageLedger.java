package dev.roster.testkit.fake;

import dev.roster.core.selection.UsageLedger;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A {@link UsageLedger} in process memory; values only move forward. Thread-safe. */
public final class InMemoryUsageLedger implements UsageLedger {
    private final ConcurrentHashMap<Long, Instant> values = new ConcurrentHashMap<>();

    @Override
    public Map<Long, Instant> lastUsed(Collection<Long> accountIds) {
        Map<Long, Instant> out = new HashMap<>();
        for (long id : accountIds) {
            Instant t = values.get(id);
            if (t != null) {
                out.put(id, t);
            }
        }
        return out;
    }

    @Override
    public void markUsed(Map<Long, Instant> lastUsed) {
        lastUsed.forEach((id, t) -> values.merge(id, t, (a, b) -> a.isAfter(b) ? a : b));
    }
}
