package dev.roster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.core.AccountCard;
import dev.roster.core.service.ListResult;
import dev.roster.testkit.RedisHarness;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Changes that move an account out of buckets its new row no longer names, and statements that
 * touch every row at once, reach the snapshots through the outbox on real PostgreSQL and Redis
 * (decisions K1, K2). The platform cases must be repaired by replay alone: a full rebuild would hide a
 * replayer that forgets the old platform, so the test asserts that none ran.
 */
class CaptureReplayTest {
    /** Well inside the freshness bound; a replayer that misses the old buckets never gets there. */
    private static final Duration SETTLE = Duration.ofSeconds(10);

    private static Servers servers;

    @BeforeAll
    static void servers() {
        servers = new Servers(CaptureReplayTest.class, "capture");
        RedisHarness.shared().start();
    }

    private static List<Long> ids(ListResult r) {
        return r.accounts().stream().map(AccountCard::id).toList();
    }

    private static long insertAccount(Servers s, String name, String platform, String extra) {
        return s.ids("INSERT INTO accounts (name, platform, type, extra) VALUES ('" + name + "', '" + platform
                        + "', 'apikey', '" + extra + "'::jsonb) RETURNING id")
                .getFirst();
    }

    private static long insertGroup(Servers s, String name, String platform) {
        return s.ids("INSERT INTO groups (name, platform) VALUES ('" + name + "', '" + platform + "') RETURNING id")
                .getFirst();
    }

    private static void link(Servers s, long account, long group) {
        s.sql("INSERT INTO account_groups (account_id, group_id) VALUES (" + account + ", " + group + ")");
    }

    /** Every openai bucket the account could be in: group g and group 0, single and forced. */
    private static void assertInOpenaiBuckets(Roster roster, long g, long account, boolean expected) {
        for (Long group : new Long[] {g, null}) {
            for (boolean force : new boolean[] {false, true}) {
                List<Long> listed = ids(roster.list(group, "openai", force));
                if (expected) {
                    assertThat(listed)
                            .as("group %s openai force=%s", group, force)
                            .contains(account);
                } else {
                    assertThat(listed)
                            .as("group %s openai force=%s", group, force)
                            .doesNotContain(account);
                }
            }
        }
    }

    private static long warmAndCountRebuilds(Roster roster) {
        await().until(roster::ready);
        await().until(() -> !roster.service().rebuilder().busy());
        return roster.service().rebuilder().runs();
    }

    private static void assertNoFullRebuildSince(Roster roster, long runs) {
        assertThat(roster.service().rebuilder().runs())
                .as("full rebuilds since the change (replay alone must repair it)")
                .isEqualTo(runs);
        assertThat(roster.service().rebuilder().busy()).isFalse();
    }

    @Test
    void platformChangeLeavesTheOldPlatformsBucketsByReplayAlone() {
        long g = insertGroup(servers, "pc-g", "openai");
        long a = insertAccount(servers, "pc-a", "openai", "{}");
        long stay = insertAccount(servers, "pc-stay", "openai", "{}");
        link(servers, a, g);
        link(servers, stay, g);
        try (Roster roster = servers.roster().build()) {
            long runs = warmAndCountRebuilds(roster);
            await().untilAsserted(() -> assertInOpenaiBuckets(roster, g, a, true));

            servers.sql("UPDATE accounts SET platform = 'anthropic' WHERE id = " + a);

            await().atMost(SETTLE).untilAsserted(() -> {
                assertInOpenaiBuckets(roster, g, a, false);
                assertThat(ids(roster.list(null, "anthropic", false))).contains(a);
            });
            assertInOpenaiBuckets(roster, g, stay, true);
            assertNoFullRebuildSince(roster, runs);
            assertThat(roster.audit().clean())
                    .as("audit after the platform change")
                    .isTrue();
        }
    }

    @Test
    void mixedAntigravityAccountMovingToOpenaiLeavesTheMixedBuckets() {
        long g = insertGroup(servers, "pc-mixed-g", "anthropic");
        long a = insertAccount(servers, "pc-mixed", "antigravity", "{\"mixed_scheduling\": true}");
        link(servers, a, g);
        try (Roster roster = servers.roster().build()) {
            long runs = warmAndCountRebuilds(roster);
            await().untilAsserted(() -> {
                assertThat(ids(roster.list(g, "anthropic", false))).contains(a);
                assertThat(ids(roster.list(null, "gemini", false))).contains(a);
            });

            servers.sql("UPDATE accounts SET platform = 'openai' WHERE id = " + a);

            await().atMost(SETTLE).untilAsserted(() -> {
                assertThat(ids(roster.list(g, "anthropic", false))).doesNotContain(a);
                assertThat(ids(roster.list(null, "anthropic", false))).doesNotContain(a);
                assertThat(ids(roster.list(null, "gemini", false))).doesNotContain(a);
                assertThat(ids(roster.list(null, "antigravity", true))).doesNotContain(a);
                assertThat(ids(roster.list(null, "openai", false))).contains(a);
            });
            assertNoFullRebuildSince(roster, runs);
        }
    }

    @Test
    void deleteAndReinsertOfOneIdInOneTransactionOnAnotherPlatform() throws Exception {
        long g = insertGroup(servers, "pc-reborn-g", "openai");
        long a = insertAccount(servers, "pc-reborn", "openai", "{}");
        link(servers, a, g);
        try (Roster roster = servers.roster().build()) {
            long runs = warmAndCountRebuilds(roster);
            await().untilAsserted(() -> assertInOpenaiBuckets(roster, g, a, true));

            try (Connection c = servers.db.connect()) {
                c.setAutoCommit(false);
                try (Statement st = c.createStatement()) {
                    st.execute("DELETE FROM accounts WHERE id = " + a);
                    st.execute("INSERT INTO accounts (id, name, platform, type) VALUES (" + a
                            + ", 'pc-reborn', 'gemini', 'apikey')");
                    st.execute("INSERT INTO account_groups (account_id, group_id) VALUES (" + a + ", " + g + ")");
                }
                c.commit();
            }

            await().atMost(SETTLE).untilAsserted(() -> {
                assertInOpenaiBuckets(roster, g, a, false);
                assertThat(ids(roster.list(null, "gemini", false))).contains(a);
            });
            assertNoFullRebuildSince(roster, runs);
        }
    }

    @Test
    void bulkPlatformChangeLeavesEveryOldBucket() {
        long g = insertGroup(servers, "pc-bulk-g", "openai");
        long a = insertAccount(servers, "pc-bulk-a", "openai", "{}");
        long b = insertAccount(servers, "pc-bulk-b", "openai", "{}");
        link(servers, a, g);
        link(servers, b, g);
        try (Roster roster = servers.roster().build()) {
            long runs = warmAndCountRebuilds(roster);
            await().untilAsserted(() -> {
                assertInOpenaiBuckets(roster, g, a, true);
                assertInOpenaiBuckets(roster, g, b, true);
            });

            servers.sql("UPDATE accounts SET platform = 'kimi' WHERE id IN (" + a + ", " + b + ")");

            await().atMost(SETTLE).untilAsserted(() -> {
                assertInOpenaiBuckets(roster, g, a, false);
                assertInOpenaiBuckets(roster, g, b, false);
                assertThat(ids(roster.list(g, "kimi", false))).contains(a, b);
            });
            assertNoFullRebuildSince(roster, runs);
        }
    }

    @Test
    void truncateOfTheLinksEmptiesTheGroupBucketsThroughAFullRebuild() {
        // A database of its own: TRUNCATE empties every row of the table.
        Servers own = new Servers(CaptureReplayTest.class, "truncate");
        long g = insertGroup(own, "tr-g", "openai");
        long a = insertAccount(own, "tr-a", "openai", "{}");
        link(own, a, g);
        try (Roster roster = own.roster().build()) {
            long runs = warmAndCountRebuilds(roster);
            await().untilAsserted(() ->
                    assertThat(ids(roster.list(g, "openai", false))).containsExactly(a));

            own.sql("TRUNCATE account_groups");

            await().atMost(SETTLE).untilAsserted(() -> {
                assertThat(ids(roster.list(g, "openai", false))).isEmpty();
                assertThat(ids(roster.list(g, "openai", true))).isEmpty();
                // Scope all: still in group 0.
                assertThat(ids(roster.list(null, "openai", false))).containsExactly(a);
            });
            // The snapshots are published before the run is counted as done.
            await().atMost(SETTLE)
                    .untilAsserted(() -> assertThat(roster.service().rebuilder().runs())
                            .as("full rebuilds since the TRUNCATE")
                            .isGreaterThan(runs));

            own.sql("TRUNCATE accounts, groups CASCADE");
            await().atMost(SETTLE)
                    .untilAsserted(() ->
                            assertThat(ids(roster.list(null, "openai", false))).isEmpty());
        }
    }
}
