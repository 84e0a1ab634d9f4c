package dev.roster.testkit.oracle;

import com.fasterxml.jackson.databind.JsonNode;
import dev.roster.core.Bucket;
import dev.roster.core.Group0Scope;
import dev.roster.core.Mode;
import dev.roster.core.RunMode;
import dev.roster.testkit.oracle.PoolRows.AccountRow;
import dev.roster.testkit.oracle.PoolRows.GroupRow;
import dev.roster.testkit.oracle.PoolRows.LinkRow;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * The bucket query Q(B, now) over {@link PoolRows}, written from its definition alone (docs/architecture.md,
 * "The bucket query"; the production types {@link Bucket}, {@link RunMode} and {@link Group0Scope} are only its
 * inputs). It also gives the expected card of every account and the set of buckets that must exist.
 *
 * <p>The rules, as that definition states them:
 *
 * <ul>
 *   <li>durable: not soft-deleted, {@code status = 'active'}, {@code schedulable};
 *   <li>at {@code now}: each of {@code rate_limit_reset_at}, {@code overload_until}, {@code
 *       temp_unschedulable_until} is null or not after {@code now}, and not ({@code
 *       auto_pause_on_expired} and {@code expires_at} not after {@code now});
 *   <li>platform: the bucket's; in mode mixed also antigravity accounts whose {@code
 *       extra.mixed_scheduling} is the JSON boolean {@code true} (a string does not count);
 *   <li>group {@code g > 0}: linked to g, and g exists, is active and not soft-deleted, else empty;
 *       group 0: every account (scope all) or those without any link (scope ungrouped); in simple run
 *       mode every bucket is group 0 with scope all;
 *   <li>order: link priority (g &gt; 0), account priority, account id, all ascending.
 * </ul>
 */
public final class BucketOracle {
    /** Mixed mode exists for anthropic and gemini (without a forced platform). */
    static final Set<String> MIXED_PLATFORMS = Set.of("anthropic", "gemini");

    private static final String ANTIGRAVITY = "antigravity";

    private final PoolRows rows;
    private final boolean simple;
    private final boolean ungrouped;
    private final Map<Long, GroupRow> groups = new HashMap<>();
    private final Map<Long, SortedMap<Long, Integer>> linksByAccount = new HashMap<>();

    /**
     * @param runMode the run mode the service runs in
     * @param group0Scope the configured scope of group 0 (ignored in simple run mode)
     */
    public BucketOracle(PoolRows rows, RunMode runMode, Group0Scope group0Scope) {
        this.rows = Objects.requireNonNull(rows, "rows");
        this.simple = runMode == RunMode.SIMPLE;
        this.ungrouped = !simple && group0Scope == Group0Scope.UNGROUPED;
        for (GroupRow g : rows.groups()) {
            groups.put(g.id(), g);
        }
        for (LinkRow l : rows.links()) {
            linksByAccount.computeIfAbsent(l.accountId(), k -> new TreeMap<>()).put(l.groupId(), l.priority());
        }
    }

    /** The rows this oracle judges. */
    public PoolRows rows() {
        return rows;
    }

    /** Q(bucket, now): the expected answer of {@code list} at {@code now}, in order. */
    public List<ExpectedCard> at(Bucket bucket, Instant now) {
        return query(bucket, Objects.requireNonNull(now, "now"));
    }

    /** The durable part of Q (no time-based block applied): what a snapshot must hold. */
    public List<ExpectedCard> durable(Bucket bucket) {
        return query(bucket, null);
    }

    /** The ids of {@link #at}. */
    public List<Long> idsAt(Bucket bucket, Instant now) {
        return at(bucket, now).stream().map(ExpectedCard::id).toList();
    }

    /** The expected card of account {@code id}; empty when it does not exist or is soft-deleted. */
    public Optional<ExpectedCard> card(long id) {
        for (AccountRow a : rows.accounts()) {
            if (a.id() == id && a.deletedAt() == null) {
                return Optional.of(cardOf(a));
            }
        }
        return Optional.empty();
    }

    /** The modes a bucket of {@code platform} can have. */
    public static List<Mode> modesOf(String platform) {
        return MIXED_PLATFORMS.contains(platform)
                ? List.of(Mode.SINGLE, Mode.MIXED, Mode.FORCED)
                : List.of(Mode.SINGLE, Mode.FORCED);
    }

    /**
     * The buckets that must exist: group 0 on every platform of a live account or group, and every
     * group × platform × mode whose durable Q is not empty (which, in simple run mode, is group 0 only).
     * A bucket of this set that a rebuild never published is a failure unless its Q is empty.
     */
    public Set<Bucket> mustExist() {
        TreeSet<Bucket> out = new TreeSet<>();
        for (String p : livePlatforms()) {
            for (Mode m : modesOf(p)) {
                out.add(new Bucket(0, p, m));
            }
        }
        for (Bucket b : universe()) {
            if (!durable(b).isEmpty()) {
                out.add(b);
            }
        }
        return out;
    }

    /**
     * Every bucket worth judging: group 0 and every group that has a row (deleted and inactive ones
     * too, whose buckets must be empty) on every platform any row names, in every mode of that platform.
     * In simple run mode only group 0 (any other group is the same query).
     */
    public Set<Bucket> universe() {
        TreeSet<String> platforms = new TreeSet<>();
        rows.accounts().forEach(a -> platforms.add(a.platform()));
        rows.groups().forEach(g -> platforms.add(g.platform()));
        List<Long> gids = new ArrayList<>();
        gids.add(0L);
        if (!simple) {
            rows.groups().forEach(g -> gids.add(g.id()));
        }
        TreeSet<Bucket> out = new TreeSet<>();
        for (long g : gids) {
            for (String p : platforms) {
                for (Mode m : modesOf(p)) {
                    out.add(new Bucket(g, p, m));
                }
            }
        }
        return out;
    }

    private Set<String> livePlatforms() {
        TreeSet<String> out = new TreeSet<>();
        rows.accounts().stream().filter(a -> a.deletedAt() == null).forEach(a -> out.add(a.platform()));
        rows.groups().stream().filter(g -> g.deletedAt() == null).forEach(g -> out.add(g.platform()));
        return out;
    }

    private List<ExpectedCard> query(Bucket bucket, @Nullable Instant now) {
        long g = simple ? 0 : bucket.groupId();
        if (g > 0) {
            GroupRow group = groups.get(g);
            if (group == null || group.deletedAt() != null || !"active".equals(group.status())) {
                return List.of();
            }
        }
        record Member(AccountRow row, int linkPriority) {}
        List<Member> members = new ArrayList<>();
        for (AccountRow a : rows.accounts()) {
            if (a.deletedAt() != null || !"active".equals(a.status()) || !a.schedulable()) {
                continue;
            }
            if (now != null && blockedAt(a, now)) {
                continue;
            }
            boolean platform = a.platform().equals(bucket.platform())
                    || (bucket.mode() == Mode.MIXED && ANTIGRAVITY.equals(a.platform()) && mixedFlag(a));
            if (!platform) {
                continue;
            }
            SortedMap<Long, Integer> links = linksByAccount.getOrDefault(a.id(), new TreeMap<>());
            int linkPriority = 0;
            if (g > 0) {
                Integer p = links.get(g);
                if (p == null) {
                    continue;
                }
                linkPriority = p;
            } else if (ungrouped && !links.isEmpty()) {
                continue;
            }
            members.add(new Member(a, linkPriority));
        }
        members.sort(Comparator.comparingInt(Member::linkPriority)
                .thenComparingInt(m -> m.row().priority())
                .thenComparingLong(m -> m.row().id()));
        return members.stream().map(m -> cardOf(m.row())).toList();
    }

    private static boolean blockedAt(AccountRow a, Instant now) {
        return after(a.rateLimitResetAt(), now)
                || after(a.overloadUntil(), now)
                || after(a.tempUnschedulableUntil(), now)
                || (a.autoPauseOnExpired()
                        && a.expiresAt() != null
                        && !a.expiresAt().isAfter(now));
    }

    private static boolean after(@Nullable Instant t, Instant now) {
        return t != null && t.isAfter(now);
    }

    /** Only the JSON boolean {@code true} counts; the string "true", 1 or a missing key do not. */
    private static boolean mixedFlag(AccountRow a) {
        JsonNode v = a.extra() == null ? null : a.extra().get("mixed_scheduling");
        return v != null && v.isBoolean() && v.booleanValue();
    }

    private ExpectedCard cardOf(AccountRow a) {
        return new ExpectedCard(
                a.id(),
                a.name(),
                a.platform(),
                a.type(),
                a.status(),
                a.schedulable(),
                a.priority(),
                a.concurrency(),
                a.rateLimitResetAt(),
                a.overloadUntil(),
                a.tempUnschedulableUntil(),
                a.expiresAt(),
                a.autoPauseOnExpired(),
                mixedFlag(a),
                new TreeSet<>(a.modelMappingKeys()),
                linksByAccount.getOrDefault(a.id(), new TreeMap<>()),
                a.rpmLimit() == null ? 0 : a.rpmLimit(),
                a.weight(),
                a.quotaThreshold5h(),
                a.quotaThreshold7d());
    }
}
