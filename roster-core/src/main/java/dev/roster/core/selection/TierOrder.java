package dev.roster.core.selection;

import dev.roster.core.AccountCard;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The load-aware layer's order of candidates (decisions SP3, SP6): priority tiers strictly first; within
 * a tier where every account has the same weight, sub2api's order (load rate, then least recently used);
 * within a tier whose weights differ, the weighted load level {@code floor((inFlight + waiting) /
 * weight)} and then the tier's weighted turns ({@link WeightedTurns}), then least recently used. Sorting
 * is stable over the bucket's order. One per selector; thread-safe.
 */
final class TierOrder {
    private final WeightedTurns turns = new WeightedTurns();

    /**
     * {@code accounts} in the order their slots are tried.
     *
     * @param bucket the bucket listed (the turns are per bucket and priority)
     * @param lru the least-recently-used order of the request
     */
    List<AccountCard> order(
            String bucket, List<AccountCard> accounts, Map<Long, AccountLoad> loads, Comparator<AccountCard> lru) {
        List<AccountCard> out = new ArrayList<>(accounts);
        out.sort(Comparator.comparingInt(AccountCard::priority));
        int from = 0;
        while (from < out.size()) {
            int priority = out.get(from).priority();
            int to = from;
            while (to < out.size() && out.get(to).priority() == priority) {
                to++;
            }
            List<AccountCard> tier = out.subList(from, to);
            tier.sort(within(bucket, tier, loads, lru));
            from = to;
        }
        return out;
    }

    /** Counts a grant to {@code chosen}; {@code pool} holds the accounts that could have been tried. */
    void granted(String bucket, List<AccountCard> pool, AccountCard chosen) {
        List<AccountCard> members = new ArrayList<>();
        for (AccountCard c : pool) {
            if (c.priority() == chosen.priority()) {
                members.add(c);
            }
        }
        if (weighted(members)) {
            turns.granted(tier(bucket, chosen.priority()), members, chosen.id());
        }
    }

    private Comparator<AccountCard> within(
            String bucket, List<AccountCard> tier, Map<Long, AccountLoad> loads, Comparator<AccountCard> lru) {
        if (!weighted(tier)) {
            return Comparator.<AccountCard>comparingInt(c -> load(loads, c).loadRate(c.concurrency()))
                    .thenComparing(lru);
        }
        Map<Long, Long> credits = turns.credits(tier(bucket, tier.get(0).priority()));
        return Comparator.<AccountCard>comparingLong(c -> level(load(loads, c), c.weight()))
                .thenComparing(Comparator.<AccountCard>comparingLong(c -> credits.getOrDefault(c.id(), 0L) + c.weight())
                        .reversed())
                .thenComparing(lru);
    }

    /** The weighted load level: whole multiples of the weight in flight or waiting. */
    static long level(AccountLoad l, int weight) {
        return ((long) l.inFlight() + l.waiting()) / weight;
    }

    /** Whether the weights of {@code tier} differ (a tier of equal weights is ordered as sub2api orders it). */
    static boolean weighted(List<AccountCard> tier) {
        for (AccountCard c : tier) {
            if (c.weight() != tier.get(0).weight()) {
                return true;
            }
        }
        return false;
    }

    private static String tier(String bucket, int priority) {
        return bucket + "/" + priority;
    }

    private static AccountLoad load(Map<Long, AccountLoad> loads, AccountCard c) {
        return loads.getOrDefault(c.id(), AccountLoad.IDLE);
    }
}
