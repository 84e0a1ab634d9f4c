package dev.roster.core.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Group0Scope;
import dev.roster.core.GroupLink;
import dev.roster.core.Mode;
import dev.roster.core.RunMode;
import dev.roster.core.internal.Universe;
import dev.roster.core.source.GroupInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The in-memory bucket computation on hand-made pools (the database-backed comparison with the SQL
 * query and the independent oracle is {@code BucketQueryDifferentialTest} in roster-it).
 */
class PoolModelTest {

    private static AccountCard card(long id, String platform, int priority, List<GroupLink> links) {
        return new AccountCard(
                id, "a" + id, platform, "apikey", "active", true, priority, 3, null, null, null, null, false, false,
                List.of(), links, null);
    }

    private static AccountCard mixedAntigravity(long id, int priority) {
        return new AccountCard(
                id,
                "a" + id,
                "antigravity",
                "oauth",
                "active",
                true,
                priority,
                3,
                null,
                null,
                null,
                null,
                false,
                true,
                List.of(),
                List.of(),
                null);
    }

    private static GroupInfo group(long id, String status) {
        return new GroupInfo(id, "g" + id, "anthropic", status);
    }

    private static List<Long> ids(List<AccountCard> cards) {
        return cards.stream().map(AccountCard::id).toList();
    }

    @Test
    void groupBucketsFollowLinkPriorityThenAccountPriorityThenId() {
        PoolModel m = new PoolModel(RunMode.STANDARD, Group0Scope.ALL);
        m.group(group(7, "active"));
        m.put(card(1, "anthropic", 5, List.of(new GroupLink(7, 2))));
        m.put(card(2, "anthropic", 1, List.of(new GroupLink(7, 2))));
        m.put(card(3, "anthropic", 9, List.of(new GroupLink(7, 0))));
        m.put(card(4, "anthropic", 1, List.of(new GroupLink(7, 2))));
        m.put(card(5, "openai", 0, List.of(new GroupLink(7, 0))));

        assertThat(ids(m.bucket(new Bucket(7, "anthropic", Mode.SINGLE)))).containsExactly(3L, 2L, 4L, 1L);
        assertThat(ids(m.bucket(new Bucket(0, "anthropic", Mode.SINGLE)))).containsExactly(2L, 4L, 1L, 3L);
        assertThat(ids(m.bucket(new Bucket(7, "openai", Mode.SINGLE)))).containsExactly(5L);
    }

    @Test
    void bucketsOfGroupsThatAreNotActiveOrUnknownAreEmpty() {
        PoolModel m = new PoolModel(RunMode.STANDARD, Group0Scope.ALL);
        m.group(group(7, "inactive"));
        m.put(card(1, "anthropic", 0, List.of(new GroupLink(7, 0), new GroupLink(8, 0))));

        assertThat(m.bucket(new Bucket(7, "anthropic", Mode.SINGLE))).isEmpty();
        assertThat(m.bucket(new Bucket(8, "anthropic", Mode.SINGLE))).isEmpty();
        m.group(group(7, "active"));
        assertThat(ids(m.bucket(new Bucket(7, "anthropic", Mode.SINGLE)))).containsExactly(1L);
        m.removeGroup(7);
        assertThat(m.bucket(new Bucket(7, "anthropic", Mode.SINGLE))).isEmpty();
    }

    @Test
    void mixedBucketsAddFlaggedAntigravityAccountsOnly() {
        PoolModel m = new PoolModel(RunMode.STANDARD, Group0Scope.ALL);
        m.put(card(1, "anthropic", 5, List.of()));
        m.put(mixedAntigravity(2, 1));
        m.put(card(3, "antigravity", 0, List.of()));

        assertThat(ids(m.bucket(new Bucket(0, "anthropic", Mode.MIXED)))).containsExactly(2L, 1L);
        assertThat(ids(m.bucket(new Bucket(0, "anthropic", Mode.SINGLE)))).containsExactly(1L);
        assertThat(ids(m.bucket(new Bucket(0, "anthropic", Mode.FORCED)))).containsExactly(1L);
        assertThat(ids(m.bucket(new Bucket(0, "antigravity", Mode.SINGLE)))).containsExactly(3L, 2L);
    }

    @Test
    void ungroupedScopeLeavesOutEveryLinkedAccountEvenToAGroupThatIsGone() {
        PoolModel m = new PoolModel(RunMode.STANDARD, Group0Scope.UNGROUPED);
        m.put(card(1, "openai", 0, List.of()));
        m.put(card(2, "openai", 0, List.of(new GroupLink(99, 0))));

        assertThat(ids(m.bucket(new Bucket(0, "openai", Mode.SINGLE)))).containsExactly(1L);
        PoolModel all = new PoolModel(RunMode.STANDARD, Group0Scope.ALL);
        all.put(card(1, "openai", 0, List.of()));
        all.put(card(2, "openai", 0, List.of(new GroupLink(99, 0))));
        assertThat(ids(all.bucket(new Bucket(0, "openai", Mode.SINGLE)))).containsExactly(1L, 2L);
    }

    @Test
    void simpleRunModeAnswersEveryGroupWithAllAccounts() {
        PoolModel m = new PoolModel(RunMode.SIMPLE, Group0Scope.UNGROUPED);
        m.put(card(1, "openai", 0, List.of(new GroupLink(5, 0))));
        m.put(card(2, "openai", 1, List.of()));

        assertThat(ids(m.bucket(new Bucket(5, "openai", Mode.SINGLE)))).containsExactly(1L, 2L);
        assertThat(ids(m.bucket(new Bucket(0, "openai", Mode.SINGLE)))).containsExactly(1L, 2L);
    }

    @Test
    void applyReindexesAPlatformChangeAndRemovesAccountsThatAreGone() {
        PoolModel m = new PoolModel(RunMode.STANDARD, Group0Scope.ALL);
        m.put(card(1, "openai", 0, List.of()));
        m.put(card(2, "openai", 0, List.of()));

        List<PoolModel.AccountChange> changes =
                m.apply(List.of(1L, 2L, 3L), Map.of(1L, card(1, "anthropic", 0, List.of())), List.of(), Map.of());

        assertThat(ids(m.bucket(new Bucket(0, "openai", Mode.SINGLE)))).isEmpty();
        assertThat(ids(m.bucket(new Bucket(0, "anthropic", Mode.SINGLE)))).containsExactly(1L);
        assertThat(m.accountCount()).isEqualTo(1);
        assertThat(changes).extracting(PoolModel.AccountChange::accountId).containsExactly(1L, 2L);
        assertThat(changes.get(1).after()).isNull();
    }

    @Test
    void applyReportsNothingForARowReadAgainUnchanged() {
        PoolModel m = new PoolModel(RunMode.STANDARD, Group0Scope.ALL);
        AccountCard c = card(1, "openai", 0, List.of());
        m.put(c);

        assertThat(m.apply(List.of(1L), Map.of(1L, c), List.of(), Map.of())).isEmpty();
    }

    @Test
    void nonSchedulableAccountsAreInNoBucket() {
        PoolModel m = new PoolModel(RunMode.STANDARD, Group0Scope.ALL);
        AccountCard off = new AccountCard(
                1, "a", "openai", "apikey", "active", false, 0, 3, null, null, null, null, false, false, List.of(),
                List.of(), null);
        AccountCard error = new AccountCard(
                2, "b", "openai", "apikey", "error", true, 0, 3, null, null, null, null, false, false, List.of(),
                List.of(), null);
        m.put(off);
        m.put(error);

        assertThat(m.bucket(new Bucket(0, "openai", Mode.SINGLE))).isEmpty();
        assertThat(m.bucketsOf(off)).isEmpty();
        assertThat(m.card(1)).isEqualTo(off);
    }

    /**
     * For random pools and random single-account changes, every bucket whose content changed is among
     * {@code bucketsOf(before) ∪ bucketsOf(after)}: the replayer may recompute only those.
     */
    @Test
    void bucketsOfCoversEveryBucketAChangeOfOneCardAltersInRandomPools() {
        Random rnd = new Random(20261203);
        List<String> platforms = List.of("anthropic", "gemini", "openai", "antigravity");
        for (int trial = 0; trial < 300; trial++) {
            RunMode runMode = rnd.nextBoolean() ? RunMode.STANDARD : RunMode.SIMPLE;
            Group0Scope scope = rnd.nextBoolean() ? Group0Scope.ALL : Group0Scope.UNGROUPED;
            PoolModel m = new PoolModel(runMode, scope);
            for (long g = 1; g <= 4; g++) {
                m.group(group(g, rnd.nextInt(4) == 0 ? "inactive" : "active"));
            }
            for (long id = 1; id <= 12; id++) {
                m.put(randomCard(rnd, id, platforms));
            }
            Set<Bucket> universe = new TreeSet<>();
            // In simple run mode requests are always normalised to group 0: no other bucket exists.
            for (long g = 0; g <= (runMode == RunMode.SIMPLE ? 0 : 5); g++) {
                universe.addAll(Universe.canonical(g, platforms));
            }
            Map<Bucket, List<AccountCard>> before = new HashMap<>(m.buckets(universe));
            long target = 1L + rnd.nextInt(12);
            AccountCard old = m.card(target);
            AccountCard now = rnd.nextInt(5) == 0 ? null : randomCard(rnd, target, platforms);
            if (now == null) {
                m.remove(target);
            } else {
                m.put(now);
            }
            Set<Bucket> allowed = new TreeSet<>(m.bucketsOf(old));
            allowed.addAll(m.bucketsOf(now));
            Map<Bucket, List<AccountCard>> after = m.buckets(universe);
            List<Bucket> missed = new ArrayList<>();
            for (Bucket b : universe) {
                if (!before.get(b).equals(after.get(b)) && !allowed.contains(b)) {
                    missed.add(b);
                }
            }
            assertThat(missed)
                    .as("trial %d (%s, %s): %s -> %s", trial, runMode, scope, old, now)
                    .isEmpty();
        }
    }

    /**
     * Large buckets are patched with the accounts changed since they were computed (decision E15): over
     * long random sequences of account puts, removals and group changes, with every bucket kept (a
     * threshold of one card), each bucket equals the brute-force oracle below after every step.
     */
    @Test
    void patchedBucketsEqualTheOracleAfterEveryChange() {
        Random rnd = new Random(20261204);
        List<String> platforms = List.of("anthropic", "gemini", "openai", "antigravity");
        for (int trial = 0; trial < 60; trial++) {
            RunMode runMode = rnd.nextInt(4) == 0 ? RunMode.SIMPLE : RunMode.STANDARD;
            Group0Scope scope = rnd.nextBoolean() ? Group0Scope.ALL : Group0Scope.UNGROUPED;
            PoolModel m = new PoolModel(runMode, scope, 1);
            Map<Long, AccountCard> cards = new HashMap<>();
            Map<Long, String> groupStatus = new HashMap<>();
            for (long g = 1; g <= 4; g++) {
                String st = rnd.nextInt(4) == 0 ? "inactive" : "active";
                m.group(group(g, st));
                groupStatus.put(g, st);
            }
            for (long id = 1; id <= 40; id++) {
                AccountCard c = randomCard(rnd, id, platforms);
                m.put(c);
                cards.put(id, c);
            }
            Set<Bucket> universe = new TreeSet<>();
            for (long g = 0; g <= (runMode == RunMode.SIMPLE ? 0 : 5); g++) {
                universe.addAll(Universe.canonical(g, platforms));
            }
            for (int step = 0; step < 60; step++) {
                int changes = 1 + rnd.nextInt(3);
                for (int k = 0; k < changes; k++) {
                    int what = rnd.nextInt(10);
                    long id = 1L + rnd.nextInt(45);
                    if (what == 0) {
                        long g = 1L + rnd.nextInt(5);
                        if (rnd.nextInt(3) == 0) {
                            m.removeGroup(g);
                            groupStatus.remove(g);
                        } else {
                            String st = rnd.nextBoolean() ? "active" : "inactive";
                            m.group(group(g, st));
                            groupStatus.put(g, st);
                        }
                    } else if (what == 1) {
                        m.remove(id);
                        cards.remove(id);
                    } else if (what < 5 && cards.containsKey(id)) {
                        // Only the sort key moves: the card stays in the same buckets at another place.
                        AccountCard c = cards.get(id);
                        AccountCard moved = new AccountCard(
                                c.id(),
                                c.name(),
                                c.platform(),
                                c.type(),
                                c.status(),
                                c.schedulable(),
                                rnd.nextInt(5),
                                c.concurrency(),
                                null,
                                null,
                                null,
                                null,
                                false,
                                c.mixedScheduling(),
                                List.of(),
                                relinked(rnd, c.groups()),
                                null);
                        m.put(moved);
                        cards.put(id, moved);
                    } else {
                        AccountCard c = randomCard(rnd, id, platforms);
                        m.put(c);
                        cards.put(id, c);
                    }
                }
                Map<Bucket, List<AccountCard>> got = m.buckets(universe);
                for (Bucket b : universe) {
                    assertThat(ids(got.get(b)))
                            .as("trial %d step %d (%s, %s) %s", trial, step, runMode, scope, b)
                            .containsExactlyElementsOf(oracle(cards, groupStatus, runMode, scope, b));
                }
            }
        }
    }

    /** The same links with new priorities. */
    private static List<GroupLink> relinked(Random rnd, List<GroupLink> links) {
        List<GroupLink> out = new ArrayList<>();
        for (GroupLink l : links) {
            out.add(new GroupLink(l.groupId(), rnd.nextInt(3)));
        }
        return out;
    }

    /** The bucket's account ids by the rules in PoolModel's class comment, written out by brute force. */
    private static List<Long> oracle(
            Map<Long, AccountCard> cards, Map<Long, String> groupStatus, RunMode runMode, Group0Scope scope, Bucket b) {
        long g = runMode == RunMode.SIMPLE ? 0 : b.groupId();
        boolean ungrouped = runMode == RunMode.STANDARD && scope == Group0Scope.UNGROUPED;
        List<long[]> rows = new ArrayList<>();
        for (AccountCard c : cards.values()) {
            boolean platform = c.platform().equals(b.platform())
                    || (b.mode() == Mode.MIXED
                            && !b.platform().equals("antigravity")
                            && c.platform().equals("antigravity")
                            && c.mixedScheduling());
            if (!platform || !c.status().equals("active") || !c.schedulable()) {
                continue;
            }
            long link = 0;
            if (g > 0) {
                if (!"active".equals(groupStatus.get(g))) {
                    continue;
                }
                GroupLink found = null;
                for (GroupLink l : c.groups()) {
                    if (l.groupId() == g) {
                        found = l;
                    }
                }
                if (found == null) {
                    continue;
                }
                link = found.priority();
            } else if (ungrouped && !c.groups().isEmpty()) {
                continue;
            }
            rows.add(new long[] {link, c.priority(), c.id()});
        }
        rows.sort((x, y) -> x[0] != y[0]
                ? Long.compare(x[0], y[0])
                : x[1] != y[1] ? Long.compare(x[1], y[1]) : Long.compare(x[2], y[2]));
        return rows.stream().map(r -> r[2]).toList();
    }

    private static AccountCard randomCard(Random rnd, long id, List<String> platforms) {
        List<GroupLink> links = new ArrayList<>();
        for (long g = 1; g <= 5; g++) {
            if (rnd.nextInt(3) == 0) {
                links.add(new GroupLink(g, rnd.nextInt(3)));
            }
        }
        return new AccountCard(
                id,
                "a" + id,
                platforms.get(rnd.nextInt(platforms.size())),
                "apikey",
                rnd.nextInt(4) == 0 ? "error" : "active",
                rnd.nextInt(5) != 0,
                rnd.nextInt(3),
                3,
                null,
                null,
                null,
                null,
                false,
                rnd.nextBoolean(),
                List.of(),
                links,
                null);
    }
}
