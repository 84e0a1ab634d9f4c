package dev.roster.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.Group0Scope;
import dev.roster.core.RunMode;
import dev.roster.core.audit.AuditReport;
import dev.roster.core.config.ScopeConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.service.SnapshotService;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.AccountSpec;
import dev.roster.postgres.GroupRepository;
import dev.roster.redis.RedisProjection;
import dev.roster.testkit.RedisHarness;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Random sequences of account, group and link changes, made through the repositories and through plain
 * SQL, interleaved with replay steps, full rebuilds and restarts of the service, against real
 * PostgreSQL and Redis. After quiescence (the outbox drained) the audit finds no drift and the
 * independent oracle ({@link OracleCheck}) agrees with every snapshot, every {@code list} answer and
 * every card. The same runs with group-0 scope {@code ungrouped} and in {@code simple} run mode.
 */
class SnapshotPropertyTest {
    private static final List<String> PLATFORMS = List.of("anthropic", "openai", "antigravity", "gemini");
    static ItEnv env;

    @BeforeContainer
    static void setUp() {
        env = new ItEnv("property");
    }

    @AfterContainer
    static void tearDown() {
        env.close();
    }

    /** One step of a scenario; the ints pick targets modulo what exists. */
    record Op(int kind, int a, int b, int c) {}

    @Provide
    Arbitrary<List<Op>> scenarios() {
        Arbitrary<Op> op = net.jqwik.api.Combinators.combine(
                        Arbitraries.integers().between(0, 18),
                        Arbitraries.integers().between(0, 1000),
                        Arbitraries.integers().between(0, 1000),
                        Arbitraries.integers().between(0, 1000))
                .as(Op::new);
        return op.list().ofMinSize(5).ofMaxSize(30);
    }

    @Property(tries = 20, seed = "20260301")
    void auditFindsNoDriftAfterQuiescence(@ForAll("scenarios") List<Op> ops) {
        run(ops, ItEnv.CONFIG);
    }

    /** Group 0 lists only accounts without a link: binding and unbinding move accounts in and out. */
    @Property(tries = 10, seed = "20261303")
    void ungroupedScopeAgreesWithTheOracle(@ForAll("scenarios") List<Op> ops) {
        run(ops, ItEnv.CONFIG.withScope(new ScopeConfig(Group0Scope.UNGROUPED)));
    }

    /** Every bucket is group 0 with scope all, whatever group a request names. */
    @Property(tries = 10, seed = "20261304")
    void simpleRunModeAgreesWithTheOracle(@ForAll("scenarios") List<Op> ops) {
        run(ops, ItEnv.CONFIG.withRunMode(RunMode.SIMPLE));
    }

    private void run(List<Op> ops, ServiceConfig config) {
        env.sql(
                "TRUNCATE account_groups, accounts, groups, scheduler_outbox, scheduler_outbox_dead_letter",
                "INSERT INTO groups (name, platform) VALUES ('g-a', 'anthropic'), ('g-b', 'openai')");
        AccountRepository accounts = new AccountRepository(env.ds);
        GroupRepository groups = new GroupRepository(env.ds);
        List<Long> accountIds = new ArrayList<>();
        List<Long> groupIds = new ArrayList<>();
        groupIds.add(env.queryLong("SELECT min(id) FROM groups"));
        groupIds.add(env.queryLong("SELECT max(id) FROM groups"));
        String prefix = RedisHarness.shared().keyPrefix(SnapshotPropertyTest.class);
        try (RedisProjection projection = env.projection(prefix)) {
            SnapshotService s = build(projection, config);
            try {
                for (Op op : ops) {
                    s = apply(op, s, projection, config, accounts, groups, accountIds, groupIds);
                }
                s.replayer().drain();
                s.replayer().drain();
                AuditReport report = s.audit();
                assertThat(report.drifts()).as("drift after %s", ops).isEmpty();
                assertThat(report.unstable()).isEmpty();
                assertThat(env.deadLetters.list(10)).isEmpty();
                SnapshotService served = s;
                assertThat(OracleCheck.problems(
                                env.ds,
                                config.runMode(),
                                config.scope().group0(),
                                projection,
                                served.generation(),
                                served::list,
                                served::getAccount,
                                served::now,
                                accountIds))
                        .as("disagreements with the oracle (%s, %s) after %s", config.runMode(), config.scope(), ops)
                        .isEmpty();
            } finally {
                s.close();
            }
        }
    }

    private static SnapshotService build(RedisProjection projection, ServiceConfig config) {
        return env.service(projection).config(config).inlineRebuilds(true).build();
    }

    private SnapshotService apply(
            Op op,
            SnapshotService s,
            RedisProjection projection,
            ServiceConfig config,
            AccountRepository accounts,
            GroupRepository groups,
            List<Long> accountIds,
            List<Long> groupIds) {
        long acc = accountIds.isEmpty() ? -1 : accountIds.get(op.a() % accountIds.size());
        long grp = groupIds.get(op.b() % groupIds.size());
        String platform = PLATFORMS.get(op.c() % PLATFORMS.size());
        try {
            switch (op.kind()) {
                case 0, 1 ->
                    accountIds.add(accounts.create(
                            AccountSpec.of("a" + op.a(), platform, "apikey")
                                    .withPriority(op.b() % 5)
                                    .withExtra(Map.of("mixed_scheduling", op.c() % 2 == 0)),
                            op.a() % 3 == 0 ? List.of() : List.of(grp)));
                case 2 ->
                    accountIds.add(
                            env.queryLong("INSERT INTO accounts (name, platform, type, priority) VALUES" + " ('sql"
                                    + op.a() + "', '" + platform + "', 'oauth', " + (op.b() % 4) + ") RETURNING id"));
                case 3 -> accounts.setPriority(acc, op.c() % 6);
                case 4 ->
                    accounts.setStatus(
                            acc, List.of("active", "error", "disabled").get(op.c() % 3));
                case 5 -> accounts.setSchedulable(acc, op.c() % 2 == 0);
                case 6 ->
                    accounts.setRateLimitResetAt(
                            acc, op.c() % 2 == 0 ? null : Instant.now().plusSeconds(600));
                case 7 -> accounts.setExtra(acc, Map.of("mixed_scheduling", op.c() % 2 == 0));
                case 8 -> accounts.softDelete(acc);
                case 9 -> env.sql("DELETE FROM accounts WHERE id = " + acc);
                case 10 -> accounts.bindGroup(acc, grp, op.c() % 3);
                case 11 -> accounts.unbindGroup(acc, grp);
                case 12 -> groupIds.add(groups.create("g" + op.a(), platform));
                case 13 ->
                    groups.setStatus(
                            grp, List.of("active", "inactive", "disabled").get(op.c() % 3));
                case 14 -> groups.softDelete(grp);
                case 15 ->
                    env.sql("UPDATE accounts SET priority = (priority + 1) % 7 WHERE platform = '" + platform + "'");
                case 16 -> s.replayer().pollOnce();
                case 17 -> s.requestFullRebuild("property").join();
                default -> {
                    // Restart: a new instance over the same stores takes over where this one stopped.
                    s.replayer().pollOnce();
                    s.close();
                    return build(projection, config);
                }
            }
        } catch (IllegalArgumentException refused) {
            // The repositories refuse a change to a missing or deleted row, naming it; nothing changed.
            // Anything else (a lost connection, a failed query) is a failure of the run and propagates.
            assertThat(refused.getMessage()).containsAnyOf("does not exist", "is deleted", "do not exist");
        }
        return s;
    }
}
