package dev.roster.core.pool;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.GroupLink;
import dev.roster.core.Mode;
import dev.roster.core.Platforms;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The last computed content of each bucket of one {@link PoolModel}, brought up to date by the accounts
 * that changed since instead of being computed again (decision E15). A group-0 bucket holds a whole
 * platform (25,000 cards at 100,000 accounts), and a change of one card used to collect and sort all of
 * them; a storm's batch recomputed hundreds of group buckets from the model's indexes. Patching removes
 * the card's old instance and inserts its new one with two binary searches, and copies the rest. Kept
 * buckets are indexed by group, so a change visits only the buckets of its own groups and group 0's;
 * buckets below {@link #MIN_CARDS} cards are computed each time.
 *
 * <p>Correct whatever it is told, as long as it is told every change: a bucket it keeps is patched
 * with every account changed since it was computed (the account's card then, and the model's card now,
 * are all the patch needs), and a change of a group drops that group's buckets. Owned by the model's
 * thread, like the model.
 */
final class BucketPatches {
    /** Buckets with at least this many cards are kept and patched; smaller ones cost less to compute. */
    static final int MIN_CARDS = 32;

    private final int minCards;
    private final Map<Bucket, Kept> kept = new HashMap<>();
    /** The kept buckets per group id (group 0's of every platform under 0), so a change visits its own. */
    private final Map<Long, List<Bucket>> byGroup = new HashMap<>();

    /**
     * A kept bucket: its content when computed, and per account changed since, its card then ({@code
     * null} when the model did not hold the account).
     */
    private static final class Kept {
        List<AccountCard> cards;
        final Map<Long, @Nullable AccountCard> before = new HashMap<>();

        Kept(List<AccountCard> cards) {
            this.cards = cards;
        }
    }

    BucketPatches(int minCards) {
        this.minCards = Math.max(1, minCards);
    }

    /** The account {@code id} changed from {@code old} to {@code now} (either may be {@code null}). */
    void changed(long id, @Nullable AccountCard old, @Nullable AccountCard now) {
        if (kept.isEmpty()) {
            return;
        }
        visit(0L, id, old, now);
        Set<Long> groups = new HashSet<>();
        for (AccountCard c : Arrays.asList(old, now)) {
            if (c != null) {
                for (GroupLink l : c.groups()) {
                    if (l.groupId() > 0 && groups.add(l.groupId())) {
                        visit(l.groupId(), id, old, now);
                    }
                }
            }
        }
    }

    private void visit(long groupId, long id, @Nullable AccountCard old, @Nullable AccountCard now) {
        List<Bucket> buckets = byGroup.get(groupId);
        if (buckets == null) {
            return;
        }
        List<Bucket> drop = null;
        for (Bucket b : buckets) {
            if (!mayHold(b, old) && !mayHold(b, now)) {
                continue;
            }
            Kept k = kept.get(b);
            if (k == null) {
                continue;
            }
            if (!k.before.containsKey(id)) {
                k.before.put(id, old);
            }
            // Past a quarter of the bucket (and a few dozen cards), sorting everything again is about as cheap.
            if (k.before.size() > Math.max(64, k.cards.size() / 4)) {
                if (drop == null) {
                    drop = new ArrayList<>();
                }
                drop.add(b);
            }
        }
        if (drop != null) {
            drop.forEach(this::forget);
        }
    }

    /** A group's status or platform changed, or it was removed: its buckets are computed again. */
    void groupChanged(long groupId) {
        List<Bucket> buckets = byGroup.remove(groupId);
        if (buckets != null) {
            buckets.forEach(kept::remove);
        }
    }

    private void forget(Bucket b) {
        kept.remove(b);
        List<Bucket> buckets = byGroup.get(b.groupId());
        if (buckets != null) {
            buckets.remove(b);
            if (buckets.isEmpty()) {
                byGroup.remove(b.groupId());
            }
        }
    }

    /** The content of {@code query} in {@code model}: kept and patched, or computed (and kept when large). */
    List<AccountCard> contents(Bucket query, PoolModel model) {
        Kept k = kept.get(query);
        if (k != null) {
            if (!k.before.isEmpty()) {
                k.cards = patch(query, k, model);
                k.before.clear();
            }
            return k.cards;
        }
        List<AccountCard> cards = model.compute(query);
        if (cards.size() >= minCards) {
            kept.put(query, new Kept(cards));
            byGroup.computeIfAbsent(query.groupId(), g -> new ArrayList<>()).add(query);
        }
        return cards;
    }

    /**
     * A cheap superset of membership: the card's links (group &gt; 0) or platform (group 0, where a
     * mixed bucket also takes antigravity cards) can place it in {@code b}.
     */
    private static boolean mayHold(Bucket b, @Nullable AccountCard c) {
        if (c == null) {
            return false;
        }
        if (b.groupId() > 0) {
            return c.linkPriority(b.groupId()) != null;
        }
        return c.platform().equals(b.platform())
                || (b.mode() == Mode.MIXED && Platforms.ANTIGRAVITY.equals(c.platform()));
    }

    // The content holds the very instances the model held when it was computed: finding the card then
    // by identity tells it from an equal card of another account state, which equality would not.
    @SuppressWarnings("ReferenceEquality")
    private static List<AccountCard> patch(Bucket query, Kept k, PoolModel model) {
        Comparator<AccountCard> order = model.order(query);
        AccountCard[] src = k.cards.toArray(new AccountCard[0]);
        int[] drop = new int[k.before.size()];
        int drops = 0;
        List<AccountCard> add = new ArrayList<>();
        for (Map.Entry<Long, @Nullable AccountCard> e : k.before.entrySet()) {
            AccountCard was = e.getValue();
            if (was != null) {
                // The content is sorted by `order` with the cards it holds, ids unique: the card then
                // is found by its own sort key, if it was a member.
                int i = Arrays.binarySearch(src, was, order);
                if (i >= 0 && src[i] == was) {
                    drop[drops++] = i;
                }
            }
            AccountCard now = model.card(e.getKey());
            if (now != null && model.member(query, now)) {
                add.add(now);
            }
        }
        Arrays.sort(drop, 0, drops);
        add.sort(order);
        AccountCard[] out = new AccountCard[src.length - drops + add.size()];
        int o = 0;
        int s = 0;
        int d = 0;
        for (AccountCard a : add) {
            int at = Arrays.binarySearch(src, a, order);
            // An equal key is the same account's card then, which is dropped: the new one goes before it.
            int ins = at >= 0 ? at : -at - 1;
            while (d < drops && drop[d] < ins) {
                o = copy(src, s, drop[d], out, o);
                s = drop[d++] + 1;
            }
            o = copy(src, s, ins, out, o);
            s = Math.max(s, ins);
            out[o++] = a;
        }
        while (d < drops) {
            o = copy(src, s, drop[d], out, o);
            s = drop[d++] + 1;
        }
        o = copy(src, s, src.length, out, o);
        if (o != out.length) {
            throw new IllegalStateException("patching " + query + " filled " + o + " of " + out.length + " cards");
        }
        return List.of(out);
    }

    private static int copy(AccountCard[] src, int from, int to, AccountCard[] out, int o) {
        int n = to - from;
        if (n > 0) {
            System.arraycopy(src, from, out, o, n);
            return o + n;
        }
        return o;
    }
}
