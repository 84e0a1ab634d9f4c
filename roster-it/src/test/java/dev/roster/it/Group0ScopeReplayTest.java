package dev.roster.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.Group0Scope;
import dev.roster.core.RunMode;
import dev.roster.core.config.ScopeConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.service.SnapshotService;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.AccountSpec;
import dev.roster.postgres.GroupRepository;
import dev.roster.redis.RedisProjection;
import dev.roster.testkit.RedisHarness;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Group-0 scope {@code ungrouped} and {@code simple} run mode driven through replay and through full
 * rebuilds on real PostgreSQL and Redis: an ungrouped account that is bound to a group leaves group 0
 * and joins the group's bucket, and returns when unbound; in simple mode every request, whatever its
 * group, gets the platform's whole pool. After every step both the expected ids and the independent
 * oracle ({@link OracleCheck}) are checked, once after replaying the change and once after a full
 * rebuild (which must not change the answer).
 */
class Group0ScopeReplayTest {
    static ItEnv env;
    AccountRepository accounts;
    GroupRepository groups;
    final List<Long> created = new ArrayList<>();

    @BeforeAll
    static void setUp() {
        env = new ItEnv("group0scope");
    }

    @AfterAll
    static void tearDown() {
        env.close();
    }

    @BeforeEach
    void clean() {
        env.truncatePool();
        accounts = new AccountRepository(env.ds);
        groups = new GroupRepository(env.ds);
    }

    private long account(String name, int priority, List<Long> groupIds) {
        long id = accounts.create(AccountSpec.of(name, "openai", "apikey").withPriority(priority), groupIds);
        created.add(id);
        return id;
    }

    private static List<Long> ids(SnapshotService s, Long group) {
        return s.list(group, "openai", false).accounts().stream()
                .map(AccountCard::id)
                .toList();
    }

    /** Replays what is pending, checks, then runs a full rebuild and checks again. */
    private void replayRebuildAndCheck(
            SnapshotService s, RedisProjection p, ServiceConfig config, List<Long> group0, Long g, List<Long> inG) {
        s.replayer().drain();
        check(s, p, config, group0, g, inG, "after replay");
        s.requestFullRebuild("test").join();
        check(s, p, config, group0, g, inG, "after a full rebuild");
    }

    private void check(
            SnapshotService s,
            RedisProjection p,
            ServiceConfig config,
            List<Long> group0,
            Long g,
            List<Long> inG,
            String when) {
        assertThat(ids(s, null)).as("group 0 %s", when).isEqualTo(group0);
        assertThat(ids(s, g)).as("group %s %s", g, when).isEqualTo(inG);
        assertThat(OracleCheck.problems(
                        env.ds,
                        config.runMode(),
                        config.scope().group0(),
                        p,
                        s.generation(),
                        s::list,
                        s::getAccount,
                        s::now,
                        created))
                .as("disagreements with the oracle %s", when)
                .isEmpty();
    }

    @Test
    void anUngroupedAccountBoundToAGroupLeavesGroupZeroAndReturnsWhenUnbound() {
        ServiceConfig config = ItEnv.CONFIG.withScope(new ScopeConfig(Group0Scope.UNGROUPED));
        long g = groups.create("team", "openai");
        long a = account("loose", 2, List.of());
        long b = account("member", 1, List.of(g));
        try (RedisProjection p = env.projection(RedisHarness.shared().keyPrefix(Group0ScopeReplayTest.class));
                SnapshotService s =
                        env.service(p).config(config).inlineRebuilds(true).build()) {
            s.requestFullRebuild("start").join();
            check(s, p, config, List.of(a), g, List.of(b), "at start");

            accounts.bindGroup(a, g, 0);
            replayRebuildAndCheck(s, p, config, List.of(), g, List.of(a, b));

            accounts.unbindGroup(a, g);
            replayRebuildAndCheck(s, p, config, List.of(a), g, List.of(b));

            // The last link of the member removed by plain SQL: it becomes ungrouped too.
            env.sql("DELETE FROM account_groups WHERE account_id = " + b);
            replayRebuildAndCheck(s, p, config, List.of(b, a), g, List.of());

            // Linked to a group that is then deleted: still linked, so still not ungrouped.
            accounts.bindGroup(a, g, 0);
            groups.softDelete(g);
            replayRebuildAndCheck(s, p, config, List.of(b), g, List.of());
        }
    }

    @Test
    void simpleRunModeGivesEveryGroupThePlatformsWholePool() {
        ServiceConfig config = ItEnv.CONFIG
                .withRunMode(RunMode.SIMPLE)
                .withScope(new ScopeConfig(Group0Scope.UNGROUPED)); // ignored in simple mode
        long g1 = groups.create("one", "openai");
        long g2 = groups.create("two", "openai");
        long a = account("in-one", 3, List.of(g1));
        long b = account("in-two", 1, List.of(g2));
        long c = account("loose", 2, List.of());
        try (RedisProjection p = env.projection(RedisHarness.shared().keyPrefix(Group0ScopeReplayTest.class));
                SnapshotService s =
                        env.service(p).config(config).inlineRebuilds(true).build()) {
            s.requestFullRebuild("start").join();
            check(s, p, config, List.of(b, c, a), g1, List.of(b, c, a), "at start");

            // Link changes and link priorities do not order anything in simple mode; the card's groups move.
            accounts.bindGroup(c, g1, 0);
            accounts.unbindGroup(a, g1);
            replayRebuildAndCheck(s, p, config, List.of(b, c, a), g1, List.of(b, c, a));

            // A disabled group is no reason to empty anything: there are no groups in simple mode.
            groups.setStatus(g2, "disabled");
            accounts.setPriority(a, 0);
            replayRebuildAndCheck(s, p, config, List.of(a, b, c), g2, List.of(a, b, c));

            accounts.setStatus(b, "disabled");
            replayRebuildAndCheck(s, p, config, List.of(a, c), g1, List.of(a, c));
        }
    }
}
