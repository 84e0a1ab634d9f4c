package dev.roster.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Group0Scope;
import dev.roster.core.GroupLink;
import dev.roster.core.Mode;
import dev.roster.core.RunMode;
import dev.roster.core.TimeFilter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bucket query Q (docs/architecture.md, "The bucket query") as a table over one fixed pool: every row
 * of docs/upstream.md U-QUERY (single/forced and mixed × group &gt; 0, group 0 in simple mode, group 0 in standard mode
 * with scope all and ungrouped), mixed filtering, ordering ties, soft-deleted and inactive rows.
 */
class BucketQueryTest {
    static PgFixture pg;
    static PostgresSchedulingSource source;
    static final Map<String, Long> ids = new HashMap<>();
    static final Map<Long, String> names = new HashMap<>();
    static long g1, g2, gInactive, gDeleted;

    @BeforeAll
    static void setUp() {
        pg = PgFixture.migrated("bucket_query");
        source = new PostgresSchedulingSource(pg.ds);
        g1 = pg.group("G1", "anthropic");
        g2 = pg.group("G2", "anthropic");
        gInactive = pg.group("Ginactive", "anthropic");
        gDeleted = pg.group("Gdeleted", "anthropic");
        pg.sql(
                "UPDATE groups SET status = 'inactive' WHERE id = " + gInactive,
                "UPDATE groups SET deleted_at = now() WHERE id = " + gDeleted);
        // name, platform, priority, extra, other columns, links (group:link priority)
        add("a1", "anthropic", 5, "{}", "", g1 + ":2");
        add("a2", "anthropic", 1, "{}", "", g1 + ":3");
        add("a3", "anthropic", 5, "{}", "", g1 + ":2");
        add("a4", "anthropic", 0, "{}", "");
        add("a5", "anthropic", 2, "{}", "", g2 + ":1");
        add("ag1", "antigravity", 9, "{\"mixed_scheduling\": true}", "", g1 + ":1");
        add("ag2", "antigravity", 1, "{\"mixed_scheduling\": \"true\"}", "", g1 + ":1");
        add("ag3", "antigravity", 1, "{\"mixed_scheduling\": 1}", "");
        add("ag4", "antigravity", 3, "{\"mixed_scheduling\": true}", "");
        add("ag5", "antigravity", 4, "{}", "");
        add("err", "anthropic", 0, "{}", ", status = 'error'", g1 + ":1");
        add("off", "anthropic", 0, "{}", ", schedulable = false");
        add("gone", "anthropic", 0, "{}", ", deleted_at = now()");
        add("o1", "openai", 1, "{}", "");
        add("o2", "openai", 2, "{}", "", g1 + ":1");
        add("inact", "anthropic", 6, "{}", "", gInactive + ":1");
        add("delg", "anthropic", 7, "{}", "", gDeleted + ":1");
        add("rl", "anthropic", 8, "{}", ", rate_limit_reset_at = now() + interval '1 hour'");
    }

    private static void add(String name, String platform, int priority, String extra, String more, String... links) {
        long id = pg.account(name, platform);
        pg.sql("UPDATE accounts SET priority = " + priority + ", extra = '" + extra + "'" + more + " WHERE id = " + id);
        for (String l : links) {
            String[] p = l.split(":", -1);
            pg.sql("INSERT INTO account_groups (account_id, group_id, priority) VALUES (" + id + ", " + p[0] + ", "
                    + p[1] + ")");
        }
        ids.put(name, id);
        names.put(id, name);
    }

    @AfterAll
    static void tearDown() {
        pg.close();
    }

    static final List<String> ALL_ANTHROPIC = List.of("a4", "a2", "a5", "a1", "a3", "inact", "delg", "rl");
    static final List<String> ALL_ANTHROPIC_MIXED =
            List.of("a4", "a2", "a5", "ag4", "a1", "a3", "inact", "delg", "rl", "ag1");

    /** group, platform, mode, run mode, scope, expected names in order. */
    static Stream<Arguments> table() {
        List<Arguments> rows = new ArrayList<>();
        for (Mode singleLike : List.of(Mode.SINGLE, Mode.FORCED)) {
            // group > 0: members of an active group, link priority then priority then id (a1/a3 tie)
            rows.add(row("G1", "anthropic", singleLike, RunMode.STANDARD, Group0Scope.ALL, "a1", "a3", "a2"));
            rows.add(row("G2", "anthropic", singleLike, RunMode.STANDARD, Group0Scope.ALL, "a5"));
            rows.add(row("G1", "openai", singleLike, RunMode.STANDARD, Group0Scope.ALL, "o2"));
            rows.add(row("Ginactive", "anthropic", singleLike, RunMode.STANDARD, Group0Scope.ALL));
            rows.add(row("Gdeleted", "anthropic", singleLike, RunMode.STANDARD, Group0Scope.ALL));
            rows.add(row("G999", "anthropic", singleLike, RunMode.STANDARD, Group0Scope.ALL));
            // group 0, simple: every account of the platform, whatever the scope and bucket group
            rows.add(row("0", "anthropic", singleLike, RunMode.SIMPLE, Group0Scope.ALL, ALL_ANTHROPIC));
            rows.add(row("0", "anthropic", singleLike, RunMode.SIMPLE, Group0Scope.UNGROUPED, ALL_ANTHROPIC));
            rows.add(row("G1", "anthropic", singleLike, RunMode.SIMPLE, Group0Scope.UNGROUPED, ALL_ANTHROPIC));
            // group 0, standard: scope all (seed) and ungrouped (upstream L7)
            rows.add(row("0", "anthropic", singleLike, RunMode.STANDARD, Group0Scope.ALL, ALL_ANTHROPIC));
            rows.add(row("0", "anthropic", singleLike, RunMode.STANDARD, Group0Scope.UNGROUPED, "a4", "rl"));
            rows.add(row("0", "openai", singleLike, RunMode.STANDARD, Group0Scope.ALL, "o1", "o2"));
            rows.add(row("0", "openai", singleLike, RunMode.STANDARD, Group0Scope.UNGROUPED, "o1"));
            rows.add(row(
                    "0",
                    "antigravity",
                    singleLike,
                    RunMode.STANDARD,
                    Group0Scope.ALL,
                    "ag2",
                    "ag3",
                    "ag4",
                    "ag5",
                    "ag1"));
            rows.add(row("0", "grok", singleLike, RunMode.STANDARD, Group0Scope.ALL));
        }
        // mixed: plus antigravity accounts whose mixed_scheduling is the JSON boolean true (ag2's
        // string and ag3's 1 do not count), in one combined order
        rows.add(row("G1", "anthropic", Mode.MIXED, RunMode.STANDARD, Group0Scope.ALL, "ag1", "a1", "a3", "a2"));
        rows.add(row("G2", "anthropic", Mode.MIXED, RunMode.STANDARD, Group0Scope.ALL, "a5"));
        rows.add(row("Ginactive", "anthropic", Mode.MIXED, RunMode.STANDARD, Group0Scope.ALL));
        rows.add(row("Gdeleted", "anthropic", Mode.MIXED, RunMode.STANDARD, Group0Scope.ALL));
        rows.add(row("0", "anthropic", Mode.MIXED, RunMode.SIMPLE, Group0Scope.ALL, ALL_ANTHROPIC_MIXED));
        rows.add(row("G1", "anthropic", Mode.MIXED, RunMode.SIMPLE, Group0Scope.UNGROUPED, ALL_ANTHROPIC_MIXED));
        rows.add(row("0", "anthropic", Mode.MIXED, RunMode.STANDARD, Group0Scope.ALL, ALL_ANTHROPIC_MIXED));
        rows.add(row("0", "anthropic", Mode.MIXED, RunMode.STANDARD, Group0Scope.UNGROUPED, "a4", "ag4", "rl"));
        rows.add(row("0", "gemini", Mode.MIXED, RunMode.STANDARD, Group0Scope.ALL, "ag4", "ag1"));
        rows.add(row("0", "gemini", Mode.MIXED, RunMode.STANDARD, Group0Scope.UNGROUPED, "ag4"));
        // The bucket query: a mixed antigravity bucket is the bucket's platform, so every antigravity account
        rows.add(row(
                "0", "antigravity", Mode.MIXED, RunMode.STANDARD, Group0Scope.ALL, "ag2", "ag3", "ag4", "ag5", "ag1"));
        return rows.stream();
    }

    private static Arguments row(
            String group, String platform, Mode mode, RunMode run, Group0Scope scope, String... expected) {
        return row(group, platform, mode, run, scope, List.of(expected));
    }

    private static Arguments row(
            String group, String platform, Mode mode, RunMode run, Group0Scope scope, List<String> expected) {
        return Arguments.of(group, platform, mode, run, scope, expected);
    }

    private static long groupId(String name) {
        return switch (name) {
            case "0" -> 0;
            case "G1" -> g1;
            case "G2" -> g2;
            case "Ginactive" -> gInactive;
            case "Gdeleted" -> gDeleted;
            default -> 999_999;
        };
    }

    @ParameterizedTest(name = "{0}:{1}:{2} {3} scope={4} -> {5}")
    @MethodSource("table")
    void durableBucketQuery(
            String group, String platform, Mode mode, RunMode run, Group0Scope scope, List<String> expected) {
        List<AccountCard> cards = source.loadBucket(Bucket.of(groupId(group), platform, mode), run, scope);
        assertThat(cards).extracting(c -> names.get(c.id())).containsExactlyElementsOf(expected);
    }

    @Test
    void timeFilterAtReadTime_dropsTheRateLimitedAccount_andSqlAgrees() {
        Bucket b = Bucket.of(0, "anthropic", Mode.SINGLE);
        Instant now = source.databaseNow();
        List<AccountCard> durable = source.loadBucket(b, RunMode.STANDARD, Group0Scope.ALL);
        List<String> timeFiltered = TimeFilter.apply(durable, now).stream()
                .map(c -> names.get(c.id()))
                .toList();
        assertThat(timeFiltered).containsExactly("a4", "a2", "a5", "a1", "a3", "inact", "delg");
        assertThat(source.loadBucketAt(b, RunMode.STANDARD, Group0Scope.ALL, now))
                .isEqualTo(TimeFilter.apply(durable, now));
    }

    @Test
    void cards_carryModelKeysAndLinksButNeverCredentials() {
        long id = ids.get("a1");
        pg.sql("UPDATE accounts SET credentials = '{\"access_token\": \"sk-secret\", \"model_mapping\":"
                + " {\"claude-b\": \"x\", \"claude-a\": \"y\"}}' WHERE id = " + id);
        AccountCard card =
                source.loadCards(List.of(id, ids.get("gone"), 424242L)).get(id);
        assertThat(card.supportedModels()).containsExactly("claude-a", "claude-b");
        assertThat(card.groups()).containsExactly(new GroupLink(g1, 2));
        assertThat(card.toString()).doesNotContain("sk-secret");
        assertThat(source.loadCards(List.of(ids.get("gone"), 424242L))).isEmpty();
        assertThat(source.loadCards(List.of(ids.get("ag1"))).get(ids.get("ag1")).mixedScheduling())
                .isTrue();
        assertThat(source.loadCards(List.of(ids.get("ag2"))).get(ids.get("ag2")).mixedScheduling())
                .isFalse();
        assertThat(source.loadCards(List.of(ids.get("err"))).get(ids.get("err")).status())
                .isEqualTo("error");
    }

    @Test
    void groupsAndPlatforms() {
        assertThat(source.activeGroups()).extracting(g -> g.id()).containsExactly(g1, g2);
        assertThat(source.platforms()).containsExactly("anthropic", "antigravity", "openai");
    }
}
