package dev.roster.core.selection;

import dev.roster.core.AccountCard;
import java.time.Instant;
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
 *
 * <p>With {@code selection.prefer_soonest_reset} (decision SP6) a tier is first sorted by the minute of
 * each account's soonest live quota reset ({@link QuotaUsage#soonestReset}), an account with no live
 * window last; the order above only breaks ties between accounts resetting in the same minute (headers
 * are rounded to seconds and a window's reset moves within {@link QuotaUsage#SAME_WINDOW}) and among the
 * accounts with no window.
 */
final class TierOrder {
    private static final long MINUTE_MS = QuotaUsage.SAME_WINDOW.toMillis();

    private final WeightedTurns turns = new WeightedTurns();
    private final boolean preferSoonestReset;

    /** An order that does ({@code true}) or does not prefer the soonest quota reset within a tier. */
    TierOrder(boolean preferSoonestReset) {
        this.preferSoonestReset = preferSoonestReset;
    }

    /**
     * {@code accounts} in the order their slots are tried.
     *
     * @param bucket the bucket listed (the turns are per bucket and priority)
     * @param lru the least-recently-used order of the request
     * @param now the application clock's instant (a quota window whose reset is at or before it is gone)
     */
    List<AccountCard> order(
            String bucket,
            List<AccountCard> accounts,
            Map<Long, AccountLoad> loads,
            Comparator<AccountCard> lru,
            Instant now) {
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
            Comparator<AccountCard> within = within(bucket, tier, loads, lru);
            if (preferSoonestReset) {
                within = Comparator.<AccountCard>comparingLong(c -> resetMinute(load(loads, c), now))
                        .thenComparing(within);
            }
            tier.sort(within);
            from = to;
        }
        return out;
    }

    /**
     * Counts a grant to {@code chosen}; {@code pool} holds the accounts that could have been tried. When
     * the soonest reset is preferred, only the accounts of the chosen one's reset minute competed for the
     * grant, so only they take part in the turn: an account with a later reset, never reached, would
     * otherwise bank credit each round while the competing ones drift to the lower bound and lose their
     * proportions.
     *
     * @param loads the loads the order was built on
     * @param now the instant the order was built at
     */
    void granted(String bucket, List<AccountCard> pool, AccountCard chosen, Map<Long, AccountLoad> loads, Instant now) {
        long minute = preferSoonestReset ? resetMinute(load(loads, chosen), now) : 0;
        List<AccountCard> members = new ArrayList<>();
        for (AccountCard c : pool) {
            if (c.priority() == chosen.priority()
                    && (!preferSoonestReset || resetMinute(load(loads, c), now) == minute)) {
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

    /**
     * The minute (since the epoch) of the account's soonest live quota reset, {@link Long#MAX_VALUE} when
     * no window is reported: the sort key of decision SP6.
     */
    static long resetMinute(AccountLoad l, Instant now) {
        Instant reset = l.quota().soonestReset(now);
        return reset == null ? Long.MAX_VALUE : Math.floorDiv(reset.toEpochMilli(), MINUTE_MS);
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
