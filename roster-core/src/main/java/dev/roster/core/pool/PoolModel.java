package dev.roster.core.pool;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Group0Scope;
import dev.roster.core.GroupLink;
import dev.roster.core.Mode;
import dev.roster.core.Platforms;
import dev.roster.core.RunMode;
import dev.roster.core.internal.Universe;
import dev.roster.core.source.GroupInfo;
import dev.roster.core.source.PoolSink;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * The scheduling pool in memory: the card of every account that is not deleted (its links and their
 * priorities are in the card), and every group that is not deleted. From it {@link #bucket} computes
 * the durable part of the bucket query Q for any bucket, group 0 included, without reading the
 * database; the audit keeps the SQL form of Q as the independent check of this computation.
 *
 * <p>Rules, the same as the SQL of {@code PostgresSchedulingSource.loadBucket}: a member is an account
 * whose status is {@code active} and that is schedulable, of the bucket's platform, or, in a {@link
 * Mode#MIXED} bucket, an antigravity account whose mixed-scheduling flag is set; in a group &gt; 0 it
 * has a link to the group and the group is {@code active}; in group 0 with scope {@link
 * Group0Scope#UNGROUPED} it has no link at all (links to deleted or unknown groups count); in {@link
 * RunMode#SIMPLE} every bucket is group 0 with scope {@link Group0Scope#ALL}. Order: link priority (group
 * &gt; 0), account priority, account id.
 *
 * <p>Not thread-safe: one thread owns a model (the replay thread; a full rebuild loads a new one on its
 * own thread and hands it over). Indexes are kept incrementally, so applying a change costs in
 * proportion to the accounts it names and a bucket computation in proportion to its candidates.
 */
public final class PoolModel implements PoolSink {
    /** Q's order within one group: account priority, then id. */
    private static final Comparator<AccountCard> ACCOUNT_ORDER =
            Comparator.comparingInt(AccountCard::priority).thenComparingLong(AccountCard::id);

    private final RunMode runMode;
    private final Group0Scope group0Scope;
    private final Map<Long, AccountCard> accounts = new HashMap<>();
    private final Map<Long, GroupInfo> groups = new HashMap<>();
    /** Account ids per linked group id, whether or not the group is known or active. */
    private final Map<Long, Set<Long>> members = new HashMap<>();
    /** Account ids per platform. */
    private final Map<String, Set<Long>> byPlatform = new HashMap<>();
    /** Large buckets' last contents, patched by the accounts changed since instead of recomputed. */
    private final BucketPatches patches;

    /**
     * An empty model for buckets shaped by {@code runMode} and {@code group0Scope} (the scope is
     * ignored in simple run mode, which always means all accounts).
     */
    public PoolModel(RunMode runMode, Group0Scope group0Scope) {
        this(runMode, group0Scope, BucketPatches.MIN_CARDS);
    }

    /** {@link #PoolModel(RunMode, Group0Scope)} keeping buckets of at least {@code patchMinCards} cards to patch. */
    PoolModel(RunMode runMode, Group0Scope group0Scope, int patchMinCards) {
        this.runMode = Objects.requireNonNull(runMode, "runMode");
        this.group0Scope =
                runMode == RunMode.SIMPLE ? Group0Scope.ALL : Objects.requireNonNull(group0Scope, "group0Scope");
        this.patches = new BucketPatches(patchMinCards);
    }

    // ---- loading and changing ----------------------------------------------------------------

    /** Adds or replaces a group ({@link PoolSink}: a group that is not deleted, whatever its status). */
    @Override
    public void group(GroupInfo group) {
        Objects.requireNonNull(group, "group");
        GroupInfo old = groups.put(group.id(), group);
        if (!group.equals(old)) {
            patches.groupChanged(group.id());
        }
    }

    /** Adds or replaces an account's card ({@link PoolSink}: an account that is not deleted). */
    @Override
    public void account(AccountCard card) {
        put(card);
    }

    /**
     * Adds or replaces the card of an account that exists and is not deleted.
     *
     * @return the card it replaced, or {@code null}
     */
    public @Nullable AccountCard put(AccountCard card) {
        Objects.requireNonNull(card, "card");
        AccountCard old = accounts.get(card.id());
        if (card.equals(old)) {
            // Re-reading a row that did not change keeps the card the buckets already hold, so that
            // comparing a recomputed bucket with the one last published is mostly identity checks.
            return old;
        }
        accounts.put(card.id(), card);
        if (old != null) {
            unindex(old);
        }
        index(card);
        patches.changed(card.id(), old, card);
        return old;
    }

    /**
     * Removes an account that is gone (deleted or soft-deleted).
     *
     * @return its card, or {@code null} when the model did not hold it
     */
    public @Nullable AccountCard remove(long accountId) {
        AccountCard old = accounts.remove(accountId);
        if (old != null) {
            unindex(old);
            patches.changed(accountId, old, null);
        }
        return old;
    }

    /**
     * Removes a group that is gone (deleted or soft-deleted). Links to it stay in the cards, as they
     * stay in the database; they make no account a member of any bucket of the group.
     *
     * @return the group, or {@code null} when the model did not hold it
     */
    public @Nullable GroupInfo removeGroup(long groupId) {
        GroupInfo old = groups.remove(groupId);
        if (old != null) {
            patches.groupChanged(groupId);
        }
        return old;
    }

    /**
     * Applies what a re-read of some rows found: each id of {@code accountIds} takes its card from
     * {@code found} or, when absent there, is removed; likewise each id of {@code groupIds}.
     *
     * @return the accounts whose card changed (added, replaced by a different card, or removed), with
     *     the card before and after
     */
    public List<AccountChange> apply(
            Collection<Long> accountIds,
            Map<Long, AccountCard> found,
            Collection<Long> groupIds,
            Map<Long, GroupInfo> foundGroups) {
        for (long g : groupIds) {
            GroupInfo info = foundGroups.get(g);
            if (info == null) {
                removeGroup(g);
            } else {
                group(info);
            }
        }
        List<AccountChange> changes = new ArrayList<>();
        for (long id : accountIds) {
            AccountCard now = found.get(id);
            AccountCard before = now == null ? remove(id) : put(now);
            if (!Objects.equals(before, now)) {
                changes.add(new AccountChange(id, before, now));
            }
        }
        return changes;
    }

    /**
     * One account's card before and after a change.
     *
     * @param accountId the account
     * @param before the card before, or {@code null} when the model did not hold the account
     * @param after the card after, or {@code null} when the account is gone
     */
    public record AccountChange(
            long accountId,
            @Nullable AccountCard before,
            @Nullable AccountCard after) {}

    private void index(AccountCard c) {
        byPlatform.computeIfAbsent(c.platform(), k -> new HashSet<>()).add(c.id());
        for (GroupLink l : c.groups()) {
            members.computeIfAbsent(l.groupId(), k -> new HashSet<>()).add(c.id());
        }
    }

    private void unindex(AccountCard c) {
        removeFrom(byPlatform, c.platform(), c.id());
        for (GroupLink l : c.groups()) {
            removeFrom(members, l.groupId(), c.id());
        }
    }

    private static <K> void removeFrom(Map<K, Set<Long>> index, K key, long id) {
        Set<Long> s = index.get(key);
        if (s != null && s.remove(id) && s.isEmpty()) {
            index.remove(key);
        }
    }

    // ---- reading -----------------------------------------------------------------------------

    /** The card of an account the model holds, or {@code null}. */
    public @Nullable AccountCard card(long accountId) {
        return accounts.get(accountId);
    }

    /** The group, or {@code null} when it is unknown or gone. */
    public @Nullable GroupInfo groupInfo(long groupId) {
        return groups.get(groupId);
    }

    /** How many accounts the model holds. */
    public int accountCount() {
        return accounts.size();
    }

    /** How many groups the model holds (any status). */
    public int groupCount() {
        return groups.size();
    }

    /** Whether buckets of group {@code g} may hold accounts: group 0, or a known group whose status is active. */
    public boolean groupActive(long g) {
        if (runMode == RunMode.SIMPLE || g <= 0) {
            return true;
        }
        GroupInfo info = groups.get(g);
        return info != null && info.active();
    }

    /** The ids of the active groups, ascending. */
    public Set<Long> activeGroupIds() {
        Set<Long> out = new TreeSet<>();
        for (GroupInfo g : groups.values()) {
            if (g.active()) {
                out.add(g.id());
            }
        }
        return out;
    }

    /** The platforms of the accounts and groups the model holds, sorted (as {@code SchedulingSource.platforms()}). */
    public Set<String> platforms() {
        Set<String> out = new TreeSet<>(byPlatform.keySet());
        for (GroupInfo g : groups.values()) {
            out.add(g.platform());
        }
        return Collections.unmodifiableSet(out);
    }

    /**
     * The durable part of Q for {@code bucket}, in Q's order (see the class comment). A bucket of a
     * group that is unknown or not active is empty.
     */
    public List<AccountCard> bucket(Bucket bucket) {
        Objects.requireNonNull(bucket, "bucket");
        return patches.contents(queryOf(bucket), this);
    }

    /** The bucket Q's content is computed for: buckets with the same query share it (see {@link #buckets}). */
    private Bucket queryOf(Bucket b) {
        Bucket q = runMode == RunMode.SIMPLE && b.groupId() != 0 ? new Bucket(0, b.platform(), b.mode()) : b;
        return q.mode() == Mode.FORCED || (q.mode() == Mode.MIXED && Platforms.ANTIGRAVITY.equals(q.platform()))
                ? new Bucket(q.groupId(), q.platform(), Mode.SINGLE)
                : q;
    }

    /** Q's content of {@code bucket} computed from every candidate (no patching). */
    List<AccountCard> compute(Bucket bucket) {
        long g = runMode == RunMode.SIMPLE ? 0 : bucket.groupId();
        boolean mixed = bucket.mode() == Mode.MIXED && !Platforms.ANTIGRAVITY.equals(bucket.platform());
        if (g > 0) {
            return groupBucket(g, bucket.platform(), mixed);
        }
        List<AccountCard> out = new ArrayList<>();
        collect(byPlatform.get(bucket.platform()), bucket.platform(), false, out);
        if (mixed) {
            collect(byPlatform.get(Platforms.ANTIGRAVITY), bucket.platform(), true, out);
        }
        out.sort(ACCOUNT_ORDER);
        return List.copyOf(out);
    }

    /**
     * {@link #bucket} for several buckets, computing a query shared by buckets whose content is the same
     * (the single and forced buckets of one group and platform) once.
     *
     * @return every bucket's content, in the order of {@code buckets}
     */
    public Map<Bucket, List<AccountCard>> buckets(Collection<Bucket> buckets) {
        Map<Bucket, List<AccountCard>> out = new LinkedHashMap<>();
        Map<Bucket, List<AccountCard>> shared = new HashMap<>();
        for (Bucket b : buckets) {
            // SINGLE stands for FORCED: the same query (and an antigravity MIXED bucket is SINGLE too).
            out.put(b, shared.computeIfAbsent(queryOf(b), q -> patches.contents(q, this)));
        }
        return out;
    }

    /**
     * The canonical buckets whose durable content includes {@code card} under this model's groups: what a
     * change of this card can add it to or remove it from (pass the card before and after a change).
     * Empty for an account that is not durably schedulable. In simple run mode only group 0's buckets
     * exist (every request is normalised to group 0), so only they are named.
     */
    public Set<Bucket> bucketsOf(@Nullable AccountCard card) {
        Set<Bucket> out = new LinkedHashSet<>();
        if (card == null || !card.durablySchedulable() || !Platforms.isValid(card.platform())) {
            return out;
        }
        List<String> platforms = Platforms.ANTIGRAVITY.equals(card.platform()) && card.mixedScheduling()
                ? List.of(card.platform(), Platforms.ANTHROPIC, Platforms.GEMINI)
                : List.of(card.platform());
        Set<Long> gids = new LinkedHashSet<>();
        if (runMode == RunMode.SIMPLE
                || group0Scope == Group0Scope.ALL
                || card.groups().isEmpty()) {
            gids.add(0L);
        }
        if (runMode == RunMode.STANDARD) {
            for (GroupLink l : card.groups()) {
                if (groupActive(l.groupId())) {
                    gids.add(l.groupId());
                }
            }
        }
        for (long g : gids) {
            for (String p : platforms) {
                for (Bucket b : Universe.canonical(g, p)) {
                    // An antigravity card reaches other platforms' buckets only through their mixed mode.
                    if (p.equals(card.platform()) || b.mode() == Mode.MIXED) {
                        out.add(b);
                    }
                }
            }
        }
        return out;
    }

    /**
     * Whether {@code c} is in the content of {@code query} (a bucket as {@link #queryOf} names it), by
     * the class comment's rules: {@link #compute} applied to one card.
     */
    boolean member(Bucket query, AccountCard c) {
        if (!c.durablySchedulable()) {
            return false;
        }
        long g = query.groupId();
        boolean mixed = query.mode() == Mode.MIXED && !Platforms.ANTIGRAVITY.equals(query.platform());
        if (g > 0) {
            return groupActive(g) && c.linkPriority(g) != null && onPlatform(c, query.platform(), mixed);
        }
        if (group0Scope == Group0Scope.UNGROUPED && !c.groups().isEmpty()) {
            return false;
        }
        return onPlatform(c, query.platform(), mixed);
    }

    /** Q's order of the content of {@code query}: link priority in a group &gt; 0, then account priority, then id. */
    Comparator<AccountCard> order(Bucket query) {
        long g = query.groupId();
        if (g <= 0) {
            return ACCOUNT_ORDER;
        }
        return Comparator.<AccountCard>comparingInt(c -> {
                    Integer link = c.linkPriority(g);
                    return link == null ? 0 : link;
                })
                .thenComparing(ACCOUNT_ORDER);
    }

    private List<AccountCard> groupBucket(long g, String platform, boolean mixed) {
        if (!groupActive(g)) {
            return List.of();
        }
        Set<Long> ids = members.get(g);
        if (ids == null) {
            return List.of();
        }
        List<Member> found = new ArrayList<>();
        for (long id : ids) {
            AccountCard c = accounts.get(id);
            if (c != null && c.durablySchedulable() && onPlatform(c, platform, mixed)) {
                Integer link = c.linkPriority(g);
                found.add(new Member(link == null ? 0 : link, c));
            }
        }
        found.sort(Comparator.comparingInt(Member::link).thenComparing(Member::card, ACCOUNT_ORDER));
        List<AccountCard> out = new ArrayList<>(found.size());
        for (Member m : found) {
            out.add(m.card());
        }
        return List.copyOf(out);
    }

    private record Member(int link, AccountCard card) {}

    private void collect(@Nullable Set<Long> ids, String platform, boolean viaMixed, List<AccountCard> out) {
        if (ids == null) {
            return;
        }
        boolean ungrouped = group0Scope == Group0Scope.UNGROUPED;
        for (long id : ids) {
            AccountCard c = accounts.get(id);
            if (c == null
                    || !c.durablySchedulable()
                    || (ungrouped && !c.groups().isEmpty())) {
                continue;
            }
            if (viaMixed ? c.mixedScheduling() : c.platform().equals(platform)) {
                out.add(c);
            }
        }
    }

    private static boolean onPlatform(AccountCard c, String platform, boolean mixed) {
        return c.platform().equals(platform)
                || (mixed && Platforms.ANTIGRAVITY.equals(c.platform()) && c.mixedScheduling());
    }
}
