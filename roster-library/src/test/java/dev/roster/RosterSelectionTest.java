package dev.roster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.roster.core.AccountCard;
import dev.roster.core.selection.AccountLoad;
import dev.roster.core.selection.CooldownKind;
import dev.roster.core.selection.Outcome;
import dev.roster.core.selection.ReportResult;
import dev.roster.core.selection.SelectRequest;
import dev.roster.core.selection.Selection;
import dev.roster.core.selection.UnknownAccountException;
import dev.roster.testkit.RedisHarness;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Selection through the library on real servers: slots shared by instances through Redis, cooldowns seen
 * by every instance at once and reaching the snapshots through PostgreSQL, and the peers' reported bugs
 * (each test named after it) replayed against real PostgreSQL and Redis with several Roster instances.
 */
class RosterSelectionTest {
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static final SelectRequest OPENAI = SelectRequest.of(null, "openai");

    private final List<Roster> rosters = new ArrayList<>();
    private Servers servers;

    @BeforeAll
    static void redis() {
        RedisHarness.shared().start();
    }

    @AfterEach
    void close() {
        rosters.forEach(Roster::close);
    }

    /** A database and key prefix of this test's own, {@code n} started Rosters seeing {@code accounts}. */
    private List<Roster> start(int n, int accounts) {
        servers = new Servers(RosterSelectionTest.class, "sel" + DATABASES.incrementAndGet());
        servers.openaiAccounts(accounts);
        return startOn(n, accounts);
    }

    private List<Roster> startOn(int n, int accounts) {
        List<Roster> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Roster r = servers.roster().build();
            rosters.add(r);
            out.add(r);
        }
        for (Roster r : out) {
            await().until(r::ready);
            await().until(() -> r.list(null, "openai", false).accounts().size() == accounts);
        }
        return out;
    }

    private static Selection.Acquired acquired(Selection s) {
        assertThat(s).isInstanceOf(Selection.Acquired.class);
        return (Selection.Acquired) s;
    }

    private Instant column(String column, long id) {
        try (Connection c = servers.db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT " + column + " FROM accounts WHERE id = " + id)) {
            rs.next();
            java.sql.Timestamp t = rs.getTimestamp(1);
            return t == null ? null : t.toInstant();
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    @Test
    void slotsAreSharedByInstances_aWaitRetriesWithItsTicket_releaseIsIdempotent_lastUsedMoves() {
        servers = new Servers(RosterSelectionTest.class, "sel" + DATABASES.incrementAndGet());
        servers.sql("INSERT INTO accounts (name, platform, type, concurrency) VALUES"
                + " ('x', 'openai', 'apikey', 1), ('y', 'openai', 'apikey', 1)");
        List<Roster> rs = startOn(2, 2);
        List<Long> ids = servers.openaiIds();

        Selection.Acquired a = acquired(rs.get(0).select(OPENAI));
        Selection.Acquired b = acquired(rs.get(1).select(OPENAI));
        assertThat(Set.of(a.card().id(), b.card().id())).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(a.layer()).isEqualTo(Selection.Layer.LOAD_AWARE);

        // Both slots are taken, whichever instance asks: a wait plan, counted in the account's queue.
        Selection third = rs.get(0).select(OPENAI);
        assertThat(third).isInstanceOf(Selection.Wait.class);
        Selection.Wait w = (Selection.Wait) third;
        Map<Long, AccountLoad> loads = rs.get(1).selectionStore().loads(ids);
        assertThat(loads.values()).allSatisfy(l -> assertThat(l.inFlight()).isEqualTo(1));
        assertThat(loads.get(w.accountId()).waiting()).isEqualTo(1);

        // The selecting instance moved last-used, visible to the other one through Redis.
        assertThat(rs.get(1).lastUsed(ids)).containsKeys(a.card().id(), b.card().id());

        Selection.Acquired holder = a.card().id() == w.accountId() ? a : b;
        Roster holderRoster = holder.equals(a) ? rs.get(0) : rs.get(1);
        assertThat(holderRoster.release(holder.lease())).isTrue();
        assertThat(rs.get(0).release(holder.lease())).isFalse();
        Selection.Acquired retried = acquired(rs.get(0).select(OPENAI.withWaitTicket(w.ticket())));
        assertThat(retried.card().id()).isEqualTo(w.accountId());
        // The ticket was handed back: the waiter is no longer counted.
        assertThat(rs.get(1).selectionStore().loads(ids).get(w.accountId()).waiting())
                .isZero();
        assertThat(rs.get(1).renew(retried.lease())).isTrue();
        assertThat(rs.get(1)
                        .release(retried.lease().accountId(), retried.lease().token()))
                .isTrue();
        Selection.Acquired other = holder.equals(a) ? b : a;
        assertThat(rs.get(0).release(other.lease())).isTrue();
        assertThat(rs.get(0).selectionStore().loads(ids).values())
                .allSatisfy(l -> assertThat(l.inFlight()).isZero());
        assertThat(rs.get(0).selectionCounters().acquisitions().get(Selection.Layer.LOAD_AWARE))
                .isEqualTo(1L);
    }

    @Test
    void aReportedCooldownIsHonouredByEveryInstanceAtOnce_andReachesTheSnapshotsThroughPostgres() {
        servers = new Servers(RosterSelectionTest.class, "sel" + DATABASES.incrementAndGet());
        servers.openaiAccounts(3);
        List<Roster> rs = startOn(3, 3);
        long hot = servers.openaiIds().getFirst();
        Instant reset = Instant.now().plus(Duration.ofMinutes(10)).truncatedTo(ChronoUnit.MILLIS);

        ReportResult r = rs.get(0).report(hot, Outcome.ofStatus(429, reset));
        assertThat(r.action()).isEqualTo(ReportResult.Action.COOLDOWN);
        assertThat(r.kind()).isEqualTo(CooldownKind.RATE_LIMITED);
        assertThat(r.until()).isEqualTo(reset);
        assertThat(r.persisted()).isTrue();

        // No waiting: the other instances still list the account (their snapshots are older), yet none
        // hands it out, because the cooldown is checked in Redis at every select.
        for (Roster other : rs.subList(1, 3)) {
            for (int i = 0; i < 6; i++) {
                Selection.Acquired a = acquired(other.select(OPENAI));
                assertThat(a.card().id()).isNotEqualTo(hot);
                other.release(a.lease());
            }
        }
        // PostgreSQL has it at once (the report wrote it) ...
        assertThat(column("rate_limit_reset_at", hot)).isEqualTo(reset);
        // ... and capture and replay bring it into every instance's snapshot.
        for (Roster other : rs) {
            await().untilAsserted(() -> {
                assertThat(other.list(null, "openai", false).accounts())
                        .extracting(AccountCard::id)
                        .doesNotContain(hot);
                assertThat(other.getAccount(hot).orElseThrow().rateLimitResetAt())
                        .isEqualTo(reset);
            });
        }
        assertThat(rs.get(0).selectionCounters().cooldowns()).containsEntry(CooldownKind.RATE_LIMITED, 1L);
    }

    /**
     * Regression: claude-relay-service #1007 and new-api #4331 kept serving a session from an account that
     * was cooling down. Here another instance reports the cooldown; the session's instance drops the
     * binding at the very next request, never serves the account, and the session settles on its new one.
     */
    @Test
    void stickySessionOnACoolingDownAccount_claudeRelayService1007_newApi4331() {
        List<Roster> rs = start(3, 3);
        SelectRequest session = OPENAI.withSession("conversation-1007");
        Selection.Acquired first = acquired(rs.get(0).select(session));
        rs.get(0).release(first.lease());
        // The binding is shared: another instance serves the session from the same account.
        Selection.Acquired again = acquired(rs.get(1).select(session));
        assertThat(again.card().id()).isEqualTo(first.card().id());
        assertThat(again.sticky()).isTrue();
        rs.get(1).release(again.lease());

        rs.get(2).report(first.card().id(), Outcome.ofStatus(529, null));

        Selection.Acquired moved = acquired(rs.get(0).select(session));
        assertThat(moved.card().id()).isNotEqualTo(first.card().id());
        assertThat(moved.sticky()).isFalse();
        assertThat(rs.get(0).selectionCounters().stickyDrops()).isEqualTo(1);
        rs.get(0).release(moved.lease());
        for (Roster r : rs) {
            Selection.Acquired next = acquired(r.select(session));
            assertThat(next.card().id()).isEqualTo(moved.card().id());
            assertThat(next.sticky()).isTrue();
            r.release(next.lease());
        }
    }

    /**
     * Regression: LiteLLM #40130 shortened an account's cooldown when a later 429 carried a shorter
     * Retry-After. Two instances report out of order; the longer deadline stays in Redis and PostgreSQL.
     */
    @Test
    void aCooldownIsNotShortenedByALaterShorterRetryAfter_liteLlm40130() {
        List<Roster> rs = start(2, 2);
        long id = servers.openaiIds().getFirst();
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        Instant longer = now.plus(Duration.ofMinutes(30));
        Instant shorter = now.plus(Duration.ofMinutes(1));

        assertThat(rs.get(0).report(id, Outcome.rateLimited(longer)).until()).isEqualTo(longer);
        ReportResult later = rs.get(1).report(id, Outcome.rateLimited(shorter));
        assertThat(later.until()).isEqualTo(longer);
        assertThat(later.persisted()).isTrue();

        assertThat(rs.get(1).selectionStore().loads(List.of(id)).get(id).coolingUntil())
                .isEqualTo(longer);
        assertThat(column("rate_limit_reset_at", id)).isEqualTo(longer);
        await().untilAsserted(
                        () -> assertThat(rs.get(1).getAccount(id).orElseThrow().rateLimitResetAt())
                                .isEqualTo(longer));
        for (Roster r : rs) {
            Selection.Acquired a = acquired(r.select(OPENAI));
            assertThat(a.card().id()).isNotEqualTo(id);
            r.release(a.lease());
        }
    }

    /**
     * Regression: parallel sessions piling onto one account (every new session bound to the same "best"
     * account). Eighty sessions start on three instances at once (one selecting thread each) over four
     * equal accounts; their slots are held, so the load each instance reads at select is mostly the
     * others' doing: the spread must hold. Selects running at the same instant read the same loads, so
     * the spread is only as exact as the number of concurrent selects (decision SEL9).
     */
    @Test
    void parallelSessionsDoNotPileOntoOneAccount_spreadHolds() throws Exception {
        servers = new Servers(RosterSelectionTest.class, "sel" + DATABASES.incrementAndGet());
        servers.sql("INSERT INTO accounts (name, platform, type, concurrency)"
                + " SELECT 'p' || g, 'openai', 'apikey', 40 FROM generate_series(1, 4) g");
        List<Roster> rs = startOn(3, 4);
        List<Long> ids = servers.openaiIds();
        int sessions = 80;
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        List<Future<Set<String>>> held = new ArrayList<>();
        try {
            for (int t = 0; t < 3; t++) {
                Roster r = rs.get(t);
                int thread = t;
                held.add(pool.submit(() -> {
                    go.await();
                    Set<String> tokens = new HashSet<>();
                    for (int i = thread; i < sessions; i += 3) {
                        tokens.add(acquired(r.select(OPENAI.withSession("parallel-" + i)))
                                .lease()
                                .token());
                    }
                    return tokens;
                }));
            }
            go.countDown();
            Set<String> tokens = new HashSet<>();
            for (Future<Set<String>> f : held) {
                tokens.addAll(f.get(60, TimeUnit.SECONDS));
            }
            assertThat(tokens).hasSize(sessions);
        } finally {
            pool.shutdownNow();
        }
        Map<Long, AccountLoad> loads = rs.get(0).selectionStore().loads(ids);
        int max = loads.values().stream().mapToInt(AccountLoad::inFlight).max().orElseThrow();
        int min = loads.values().stream().mapToInt(AccountLoad::inFlight).min().orElseThrow();
        assertThat(loads.values().stream().mapToInt(AccountLoad::inFlight).sum())
                .isEqualTo(sessions);
        assertThat(min).as("in-flight per account %s", loads).isPositive();
        assertThat((double) max / min).as("max/min in-flight %s", loads).isLessThanOrEqualTo(1.5);
    }

    @Test
    void cooldownsByErrorClass_aRefusedModelCoolsOnlyThatModel_escalationIsShared_quotaReachesPostgres() {
        List<Roster> rs = start(2, 2);
        List<Long> ids = servers.openaiIds();
        long x = ids.get(0);
        long y = ids.get(1);

        // A refused model: that model on that account only, on every instance; no column moves.
        ReportResult refused = rs.get(0).report(x, Outcome.modelUnsupported("gpt-5"));
        assertThat(refused.kind()).isEqualTo(CooldownKind.MODEL_UNSUPPORTED);
        assertThat(refused.model()).isEqualTo("gpt-5");
        for (int i = 0; i < 4; i++) {
            Selection.Acquired a = acquired(rs.get(1).select(OPENAI.withModel("gpt-5")));
            assertThat(a.card().id()).isEqualTo(y);
            rs.get(1).release(a.lease());
        }
        // x is now the least recently used: another model goes to it at once.
        Selection.Acquired other = acquired(rs.get(1).select(OPENAI.withModel("gpt-4o")));
        assertThat(other.card().id()).isEqualTo(x);
        rs.get(1).release(other.lease());
        assertThat(column("rate_limit_reset_at", x)).isNull();
        assertThat(column("overload_until", x)).isNull();

        // 429s without reset escalate across instances (the streak is in Redis); a success resets it.
        ReportResult first = rs.get(0).report(y, Outcome.rateLimited(null));
        ReportResult second = rs.get(1).report(y, Outcome.rateLimited(null));
        assertThat(first.streak()).isEqualTo(1);
        assertThat(second.streak()).isEqualTo(2);
        assertThat(Duration.between(first.until(), second.until())).isPositive();
        assertThat(column("rate_limit_reset_at", y)).isEqualTo(second.until());
        rs.get(0).report(y, Outcome.of(Outcome.Kind.SUCCESS));
        assertThat(rs.get(1).report(y, Outcome.rateLimited(null)).streak()).isEqualTo(1);

        // An exhausted quota cools until its window resets, in Redis and in PostgreSQL.
        Instant reset = Instant.now().plus(Duration.ofHours(3)).truncatedTo(ChronoUnit.MILLIS);
        ReportResult quota = rs.get(1).report(x, Outcome.quotaExhausted(reset));
        assertThat(quota.kind()).isEqualTo(CooldownKind.RATE_LIMITED);
        assertThat(quota.until()).isEqualTo(reset);
        assertThat(quota.persisted()).isTrue();
        assertThat(column("rate_limit_reset_at", x)).isEqualTo(reset);

        // An unknown account: named, and nothing written.
        long unknown = 987_654_321L;
        assertThatThrownBy(() -> rs.get(0).report(unknown, Outcome.rateLimited(null)))
                .isInstanceOf(UnknownAccountException.class)
                .hasMessageContaining("account " + unknown);
        assertThat(rs.get(0).selectionStore().loads(List.of(unknown)).get(unknown))
                .isEqualTo(AccountLoad.IDLE);
    }

    @Test
    void closeStopsTheSlotSweeper() {
        List<Roster> rs = start(1, 1);
        assertThat(sweepers()).isPositive();
        rs.getFirst().close();
        await().until(() -> sweepers() == 0);
    }

    private static long sweepers() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("roster-slot-sweeper") && t.isAlive())
                .count();
    }
}
