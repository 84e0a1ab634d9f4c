package dev.roster.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Group0Scope;
import dev.roster.core.GroupLink;
import dev.roster.core.Mode;
import dev.roster.core.RunMode;
import dev.roster.core.TimeFilter;
import dev.roster.core.pool.PoolModel;
import dev.roster.core.service.FakeStoreQuery;
import dev.roster.core.source.BatchRead;
import dev.roster.core.source.GroupInfo;
import dev.roster.core.source.SchedulingSource;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.AccountSpec;
import dev.roster.postgres.GroupRepository;
import dev.roster.testkit.oracle.BucketOracle;
import dev.roster.testkit.oracle.ExpectedCard;
import dev.roster.testkit.oracle.OracleDiff;
import dev.roster.testkit.oracle.PoolRows;
import dev.roster.testkit.oracle.PoolRows.AccountRow;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Four computations of the bucket query Q must agree on random pools: the production SQL ({@code
 * PostgresSchedulingSource.loadBucketAt}), the fake store's Java query followed by the time filter
 * (what the core unit tests trust), the replayer's in-memory {@link PoolModel} followed by the time
 * filter — loaded in bulk after the changes, and kept incrementally from the rows the captured events
 * name, as the replayer does — and the independent oracle over the raw rows. Pools and changes are
 * made through the repositories and through plain SQL (raw JSON such as the string {@code "true"} for
 * {@code mixed_scheduling}, bulk updates, hard deletes); every bucket of the pool (deleted, inactive and
 * unknown groups included) is judged at instants where time blocks start and end, one microsecond
 * before them, and at a base instant. The run mode and group-0 scope are part of the random input.
 *
 * <p>Size: {@code -Droster.differential.size=large} (the {@code differential-large} profile) makes
 * pools and change lists several times larger; the normal suite runs the small size.
 */
class BucketQueryDifferentialTest {
    private static final boolean LARGE = "large".equals(System.getProperty("roster.differential.size", "small"));
    private static final int OPS = LARGE ? 120 : 25;
    private static final List<String> PLATFORMS = List.of("anthropic", "openai", "antigravity", "gemini");
    /** The application-clock instant time columns are set around (whole seconds: the database keeps µs). */
    private static final Instant BASE = Instant.parse("2026-06-01T12:00:00Z");

    static ItEnv env;
    static AccountRepository accounts;
    static GroupRepository groups;

    @BeforeContainer
    static void setUp() {
        env = new ItEnv("differential");
        accounts = new AccountRepository(env.ds);
        groups = new GroupRepository(env.ds);
    }

    @AfterContainer
    static void tearDown() {
        env.close();
    }

    /** One change; the ints pick targets and values modulo what exists. */
    record Op(int kind, int a, int b, int c) {}

    /** The configuration a try runs with. */
    record Setting(RunMode runMode, Group0Scope scope) {}

    @Provide
    Arbitrary<List<Op>> changes() {
        Arbitrary<Op> op = Combinators.combine(
                        Arbitraries.integers().between(0, 23),
                        Arbitraries.integers().between(0, 1000),
                        Arbitraries.integers().between(0, 1000),
                        Arbitraries.integers().between(0, 1000))
                .as(Op::new);
        return op.list().ofMinSize(OPS / 2).ofMaxSize(OPS);
    }

    @Provide
    Arbitrary<Setting> settings() {
        return Arbitraries.of(
                new Setting(RunMode.STANDARD, Group0Scope.ALL),
                new Setting(RunMode.STANDARD, Group0Scope.UNGROUPED),
                new Setting(RunMode.SIMPLE, Group0Scope.UNGROUPED),
                new Setting(RunMode.SIMPLE, Group0Scope.ALL));
    }

    @Property(tries = 200, seed = "20261302")
    void sqlFakeModelAndOracleAgreeOnEveryBucket(
            @ForAll("changes") List<Op> ops,
            @ForAll("settings") Setting setting,
            @ForAll("picks") List<Integer> picks) {
        env.sql("TRUNCATE account_groups, accounts, groups, scheduler_outbox RESTART IDENTITY");
        List<Long> accountIds = new ArrayList<>();
        List<Long> groupIds = new ArrayList<>();
        groupIds.add(groups.create("g-anthropic", "anthropic"));
        groupIds.add(groups.create("g-openai", "openai"));
        PoolModel incremental = new PoolModel(setting.runMode(), setting.scope());
        for (Op op : ops) {
            apply(op, accountIds, groupIds);
        }
        // What the replayer does with each batch: re-read the rows the events name, apply them.
        BatchRead batch = env.source.readBatch(0, java.util.Set.of(), null, 100_000);
        incremental.apply(
                SchedulingSource.namedAccounts(batch.outbox().events()),
                batch.accounts(),
                SchedulingSource.namedGroups(batch.outbox().events()),
                batch.groups());
        PoolModel bulk = new PoolModel(setting.runMode(), setting.scope());
        env.source.loadPool(bulk);

        PoolRows rows = PoolRows.load(env.ds);
        BucketOracle oracle = new BucketOracle(rows, setting.runMode(), setting.scope());
        FakeStoreQuery fake = new FakeStoreQuery(cardsOf(oracle, rows), liveGroups(rows));
        List<Instant> instants = instants(rows, picks);

        TreeSet<Bucket> buckets = new TreeSet<>(oracle.universe());
        long unknownGroup = groupIds.stream().mapToLong(Long::longValue).max().orElse(0) + 1;
        buckets.add(new Bucket(unknownGroup, "openai", Mode.SINGLE));
        buckets.add(new Bucket(0, "brand-new", Mode.SINGLE));
        List<String> problems = new ArrayList<>();
        for (Bucket b : buckets) {
            List<AccountCard> fakeDurable = fake.durable(b, setting.runMode(), setting.scope());
            List<AccountCard> bulkDurable = bulk.bucket(b);
            List<AccountCard> incrementalDurable = incremental.bucket(b);
            for (Instant now : instants) {
                List<ExpectedCard> expected = oracle.at(b, now);
                List<AccountCard> sql = env.source.loadBucketAt(b, setting.runMode(), setting.scope(), now);
                String d = OracleDiff.compare(b, expected, sql);
                if (d != null) {
                    problems.add("SQL at " + now + ": " + d);
                }
                String f = OracleDiff.compare(b, expected, TimeFilter.apply(fakeDurable, now));
                if (f != null) {
                    problems.add("fake store at " + now + ": " + f);
                }
                String m = OracleDiff.compare(b, expected, TimeFilter.apply(bulkDurable, now));
                if (m != null) {
                    problems.add("pool model (bulk load) at " + now + ": " + m);
                }
                String i = OracleDiff.compare(b, expected, TimeFilter.apply(incrementalDurable, now));
                if (i != null) {
                    problems.add("pool model (incremental) at " + now + ": " + i);
                }
            }
        }
        assertThat(problems)
                .as("disagreements with %s after %s over %s", setting, ops, rows)
                .isEmpty();
    }

    @Provide
    Arbitrary<List<Integer>> picks() {
        return Arbitraries.integers().between(0, 10_000).list().ofSize(LARGE ? 8 : 3);
    }

    /**
     * The base instant, plus for a few time values of the pool the value itself (a block ends there;
     * an expiry starts there) and one microsecond before it.
     */
    private static List<Instant> instants(PoolRows rows, List<Integer> picks) {
        TreeSet<Instant> values = new TreeSet<>();
        for (AccountRow a : rows.accounts()) {
            for (Instant t :
                    new Instant[] {a.rateLimitResetAt(), a.overloadUntil(), a.tempUnschedulableUntil(), a.expiresAt()
                    }) {
                if (t != null) {
                    values.add(t);
                }
            }
        }
        TreeSet<Instant> out = new TreeSet<>();
        out.add(BASE);
        List<Instant> all = List.copyOf(values);
        if (!all.isEmpty()) {
            for (int p : picks) {
                Instant t = all.get(p % all.size());
                out.add(t);
                out.add(t.minus(Duration.ofNanos(1_000)));
            }
        }
        return List.copyOf(out);
    }

    /** A time value around the base: blocks that ended, end at the base, or are still running. */
    private static Instant around(int v) {
        return BASE.plusSeconds(60L * ((v % 7) - 3));
    }

    private static final List<String> EXTRAS = List.of(
            "{}",
            "{\"mixed_scheduling\": true}",
            "{\"mixed_scheduling\": false}",
            "{\"mixed_scheduling\": \"true\"}",
            "{\"mixed_scheduling\": 1}",
            "{\"mixed_scheduling\": null}",
            "{\"other\": true}");

    private static final List<String> CREDENTIALS = List.of(
            "{\"api_key\": \"sk-secret\"}",
            "{\"api_key\": \"sk-secret\", \"model_mapping\": {\"claude-x\": \"claude-y\", \"a\": \"b\"}}",
            "{\"model_mapping\": null}",
            "{\"model_mapping\": {}}",
            "{\"model_mapping\": {\"gpt-5\": \"gpt-5\"}}");

    private void apply(Op op, List<Long> accountIds, List<Long> groupIds) {
        long acc = accountIds.isEmpty() ? -1 : accountIds.get(op.a() % accountIds.size());
        long grp = groupIds.get(op.b() % groupIds.size());
        String platform = PLATFORMS.get(op.c() % PLATFORMS.size());
        try {
            switch (op.kind()) {
                case 0, 1, 2 -> {
                    AccountSpec spec = AccountSpec.of("a" + op.a(), platform, "apikey")
                            .withPriority(op.b() % 4)
                            .withConcurrency(op.a() % 5);
                    if (op.c() % 3 == 0) {
                        spec = spec.withExtra(Map.of("mixed_scheduling", op.a() % 2 == 0));
                    } else if (op.c() % 3 == 1) {
                        spec = spec.withExtra(Map.of("mixed_scheduling", "true"));
                    }
                    if (op.a() % 4 == 0) {
                        spec = spec.withCredentials(Map.of("api_key", "sk-x", "model_mapping", Map.of("m1", "m2")));
                    }
                    if (op.b() % 5 == 0) {
                        spec = spec.withExpiry(around(op.a()), op.c() % 2 == 0);
                    }
                    accountIds.add(accounts.create(spec, op.a() % 3 == 0 ? List.of() : List.of(grp)));
                }
                case 3 ->
                    accountIds.add(env.queryLong("INSERT INTO accounts (name, platform, type, priority, extra,"
                            + " credentials) VALUES ('sql" + op.a() + "', '" + platform + "', 'oauth', "
                            + (op.b() % 4) + ", '" + EXTRAS.get(op.c() % EXTRAS.size()) + "', '"
                            + CREDENTIALS.get(op.a() % CREDENTIALS.size()) + "') RETURNING id"));
                case 4 -> accounts.setPriority(acc, op.c() % 4);
                case 5 ->
                    accounts.setStatus(
                            acc, List.of("active", "error", "disabled").get(op.c() % 3));
                case 6 -> accounts.setSchedulable(acc, op.c() % 3 != 0);
                case 7 -> accounts.setRateLimitResetAt(acc, op.c() % 3 == 0 ? null : around(op.b()));
                case 8 -> accounts.setOverloadUntil(acc, op.c() % 3 == 0 ? null : around(op.b()));
                case 9 -> accounts.setTempUnschedulableUntil(acc, op.c() % 3 == 0 ? null : around(op.b()));
                case 10 ->
                    env.sql("UPDATE accounts SET expires_at = "
                            + (op.c() % 4 == 0 ? "NULL" : "'" + around(op.b()) + "'")
                            + ", auto_pause_on_expired = " + (op.a() % 2 == 0) + " WHERE id = " + acc);
                case 11 ->
                    env.sql("UPDATE accounts SET extra = '" + EXTRAS.get(op.c() % EXTRAS.size()) + "' WHERE id = "
                            + acc);
                case 12 ->
                    env.sql("UPDATE accounts SET credentials = '" + CREDENTIALS.get(op.c() % CREDENTIALS.size())
                            + "' WHERE id = " + acc);
                case 13 -> accounts.softDelete(acc);
                case 14 -> env.sql("DELETE FROM accounts WHERE id = " + acc);
                case 15, 16 -> accounts.bindGroup(acc, grp, op.c() % 3);
                case 17 -> accounts.unbindGroup(acc, grp);
                case 18 -> groupIds.add(groups.create("g" + op.a(), platform));
                case 19 ->
                    groups.setStatus(
                            grp, List.of("active", "inactive", "disabled").get(op.c() % 3));
                case 20 -> groups.softDelete(grp);
                case 21 ->
                    env.sql("UPDATE accounts SET priority = (priority + 1) % 4 WHERE platform = '" + platform + "'");
                case 22 -> env.sql("UPDATE account_groups SET priority = " + (op.c() % 3) + " WHERE group_id = " + grp);
                default -> env.sql("UPDATE accounts SET platform = '" + platform + "' WHERE id = " + acc);
            }
        } catch (IllegalArgumentException refused) {
            // The repositories refuse changes to missing or deleted rows, naming them; nothing changed.
            assertThat(refused.getMessage()).containsAnyOf("does not exist", "is deleted", "do not exist");
        }
    }

    /** Cards for the fake store, built here from the raw rows (not by the production mapper). */
    private static List<AccountCard> cardsOf(BucketOracle oracle, PoolRows rows) {
        List<AccountCard> out = new ArrayList<>();
        for (AccountRow a : rows.accounts()) {
            if (a.deletedAt() != null) {
                continue;
            }
            ExpectedCard e = oracle.card(a.id()).orElseThrow();
            List<GroupLink> links = new ArrayList<>();
            e.groups().forEach((g, p) -> links.add(new GroupLink(g, p)));
            out.add(new AccountCard(
                    e.id(),
                    e.name(),
                    e.platform(),
                    e.type(),
                    e.status(),
                    e.schedulable(),
                    e.priority(),
                    e.concurrency(),
                    e.rateLimitResetAt(),
                    e.overloadUntil(),
                    e.tempUnschedulableUntil(),
                    e.expiresAt(),
                    e.autoPauseOnExpired(),
                    e.mixedScheduling(),
                    List.copyOf(e.supportedModels()),
                    links,
                    null));
        }
        return out;
    }

    private static List<GroupInfo> liveGroups(PoolRows rows) {
        return rows.groups().stream()
                .filter(g -> g.deletedAt() == null)
                .map(g -> new GroupInfo(g.id(), g.name(), g.platform(), g.status()))
                .toList();
    }
}
