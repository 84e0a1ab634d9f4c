package dev.roster.core.selection;

import dev.roster.core.AccountCard;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Smooth weighted round-robin credits per priority tier, local to one selector (decision SP3): each grant
 * in a tier adds every member's weight to its credit and takes the tier's total weight off the account
 * granted, so over any run of grants the accounts of a tier are granted in proportion to their weights,
 * interleaved rather than in bursts. The tier's order asks for the credits ({@link #credits}) and tries
 * the highest {@code credit + weight} first among accounts of the same weighted load.
 *
 * <p>Credits are bounded to twice the tier's total weight either way, so an account that is full or
 * slow for a long time does not bank turns it would then take in a burst. The map of tiers is bounded
 * ({@value #MAX_TIERS}, then forgotten): credits are a fairness aid, losing them costs one uneven round.
 * Thread-safe; concurrent selects may read the same credits and pick the same account, which the next
 * grants even out.
 */
final class WeightedTurns {
    /** Tiers with credits of their own; past it every credit is forgotten. */
    static final int MAX_TIERS = 1024;

    private final Map<String, Map<Long, Long>> byTier = new HashMap<>();

    /** A copy of the credits of {@code tier} (accounts never granted or passed over have none: 0). */
    synchronized Map<Long, Long> credits(String tier) {
        Map<Long, Long> m = byTier.get(tier);
        return m == null ? Map.of() : Map.copyOf(m);
    }

    /**
     * One grant to {@code chosen} among {@code members} (the tier's accounts that could be tried: not
     * cooling, paused or excluded).
     */
    synchronized void granted(String tier, List<AccountCard> members, long chosen) {
        long total = 0;
        for (AccountCard c : members) {
            total += c.weight();
        }
        if (total == 0) {
            return;
        }
        if (byTier.size() >= MAX_TIERS && !byTier.containsKey(tier)) {
            byTier.clear();
        }
        Map<Long, Long> m = byTier.computeIfAbsent(tier, k -> new HashMap<>());
        long bound = 2 * total;
        for (AccountCard c : members) {
            long v = m.getOrDefault(c.id(), 0L) + c.weight() - (c.id() == chosen ? total : 0);
            m.put(c.id(), Math.max(-bound, Math.min(bound, v)));
        }
    }
}
