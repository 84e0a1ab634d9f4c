package dev.roster.testkit.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roster.core.AccountCard;
import dev.roster.core.GroupLink;
import dev.roster.core.config.CooldownPolicy;
import dev.roster.core.config.SelectionConfig;
import dev.roster.core.selection.AccountLoad;
import dev.roster.core.selection.CooldownKind;
import dev.roster.core.selection.CooldownSink;
import dev.roster.core.selection.Outcome;
import dev.roster.core.selection.ReportResult;
import dev.roster.core.selection.SelectRequest;
import dev.roster.core.selection.Selection;
import dev.roster.core.selection.SelectionStore;
import dev.roster.core.selection.Selector;
import dev.roster.core.selection.UnknownAccountException;
import dev.roster.testkit.TestClock;
import dev.roster.testkit.fake.InMemoryCandidates;
import dev.roster.testkit.fake.InMemoryUsageLedger;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The cooldown policy by error class (decisions CD1–CD3), through {@link Selector#report} and {@link
 * Selector#select}, run against every {@link SelectionStore}: two selectors (two gateway instances) on
 * two clients of one namespace, one fake clock, candidates in memory, a sink that records what reaches
 * the source of truth. A subclass supplies {@link #open(String, InstantSource)}.
 */
public abstract class CooldownPolicyContract {
    private static final AtomicLong NAMESPACES = new AtomicLong();

    /** The policy under test: the defaults. */
    protected static final CooldownPolicy POLICY = CooldownPolicy.DEFAULTS;

    /** The fake clock of both instances. */
    protected final TestClock clock = TestClock.at(TestClock.T0);

    private final InMemoryCandidates candidates = new InMemoryCandidates(clock);
    private final List<SelectionStore> opened = new CopyOnWriteArrayList<>();

    /** What the sink was told, as {@code "<id> <kind> <until>"}. */
    protected final List<String> persisted = new CopyOnWriteArrayList<>();

    /** Instance A and instance B, each with its own store client. */
    protected Selector a;

    protected Selector b;

    /** Instance A's store client. */
    protected SelectionStore storeA;

    /** Opens a new client over {@code namespace} judging expiry with {@code clock}. */
    protected abstract SelectionStore open(String namespace, InstantSource clock);

    private final CooldownSink sink = new CooldownSink() {
        @Override
        public void extend(long accountId, CooldownKind kind, Instant until) {
            persisted.add(accountId + " " + kind + " " + until);
        }

        @Override
        public void markError(long accountId, String message) {
            persisted.add(accountId + " error");
        }
    };

    @BeforeEach
    void openInstances() {
        String ns = "c" + NAMESPACES.incrementAndGet();
        candidates.put(List.of(
                card(1, 0), card(2, 1), card(3, 0).toBuilder().type("oauth").build()));
        storeA = open(ns, clock);
        opened.add(storeA);
        SelectionStore storeB = open(ns, clock);
        opened.add(storeB);
        a = selector(storeA);
        b = selector(storeB);
    }

    @AfterEach
    void closeStores() {
        opened.forEach(SelectionStore::close);
    }

    private Selector selector(SelectionStore store) {
        return Selector.newBuilder()
                .source(candidates)
                .store(store)
                .usage(new InMemoryUsageLedger())
                .cooldownSink(sink)
                .selection(SelectionConfig.DEFAULTS)
                .clock(clock)
                .build();
    }

    private static AccountCard card(long id, int priority) {
        return AccountCard.builder()
                .id(id)
                .name("acc-" + id)
                .platform("anthropic")
                .type("apikey")
                .status("active")
                .schedulable(true)
                .priority(priority)
                .concurrency(5)
                .groups(List.of(new GroupLink(1, 1)))
                .updatedAt(Instant.EPOCH)
                .build();
    }

    private Instant now() {
        return clock.instant();
    }

    private @Nullable Instant coolingUntil(long id, @Nullable String model) {
        AccountLoad l = Objects.requireNonNull(
                storeA.read(List.of(id), null, model).loads().get(id), "load");
        return l.coolingUntil();
    }

    private long selected(Selector s, SelectRequest r) {
        Selection sel = s.select(r);
        assertThat(sel).isInstanceOf(Selection.Acquired.class);
        Selection.Acquired acq = (Selection.Acquired) sel;
        s.release(acq.lease());
        return acq.card().id();
    }

    // ---- 429 without reset: short, escalating, reset by a success ----------------------------

    @Test
    void rateLimitWithoutReset_escalatesOverBothInstances_theLastStepRepeats_aSuccessResetsIt() {
        Instant t0 = now();
        ReportResult first = a.report(1, Outcome.rateLimited(null));
        assertThat(first.kind()).isEqualTo(CooldownKind.RATE_LIMITED);
        assertThat(first.until()).isEqualTo(t0.plusSeconds(5));
        assertThat(first.streak()).isEqualTo(1);
        // The other instance skips the account at once, and sees the streak.
        assertThat(selected(b, SelectRequest.of(1L, "anthropic"))).isEqualTo(3);
        clock.advance(Duration.ofSeconds(5));
        assertThat(b.report(1, Outcome.rateLimited(null)).until()).isEqualTo(now().plusSeconds(10));
        clock.advance(Duration.ofSeconds(10));
        assertThat(a.report(1, Outcome.rateLimited(null)).until()).isEqualTo(now().plusSeconds(45));
        clock.advance(Duration.ofSeconds(45));
        ReportResult fourth = b.report(1, Outcome.rateLimited(null));
        assertThat(fourth.streak()).isEqualTo(4);
        assertThat(fourth.until()).isEqualTo(now().plusSeconds(45));
        assertThat(persisted).hasSize(4).allSatisfy(p -> assertThat(p).startsWith("1 RATE_LIMITED "));

        // A success ends the streak: the next 429 costs the first step again.
        clock.advance(Duration.ofSeconds(45));
        assertThat(a.report(1, Outcome.of(Outcome.Kind.SUCCESS)).action()).isEqualTo(ReportResult.Action.NONE);
        assertThat(b.report(1, Outcome.rateLimited(null)).until()).isEqualTo(now().plusSeconds(5));
    }

    @Test
    void rateLimitWithoutReset_aStreakEndsAWindowAfterItsLastFailure() {
        a.report(1, Outcome.rateLimited(null));
        clock.advance(Duration.ofSeconds(5));
        assertThat(a.report(1, Outcome.rateLimited(null)).streak()).isEqualTo(2);
        clock.advance(POLICY.streakWindow());
        ReportResult r = b.report(1, Outcome.rateLimited(null));
        assertThat(r.streak()).isEqualTo(1);
        assertThat(r.until()).isEqualTo(now().plusSeconds(5));
    }

    // ---- 429 with a reset: until then, capped -------------------------------------------------

    @Test
    void rateLimitWithReset_coolsUntilTheReset_cappedAtRateLimitMax_aPastResetEscalatesAsNone() {
        Instant t0 = now();
        ReportResult r = a.report(1, Outcome.rateLimited(t0.plusSeconds(90)));
        assertThat(r.until()).isEqualTo(t0.plusSeconds(90));
        assertThat(r.streak()).isZero();
        assertThat(coolingUntil(1, null)).isEqualTo(t0.plusSeconds(90));
        // A reset hours away (a midnight reset, a wrong header) is cut to the cap.
        assertThat(b.report(2, Outcome.rateLimited(t0.plus(Duration.ofHours(20))))
                        .until())
                .isEqualTo(t0.plus(POLICY.rateLimitMax()));
        // A reset in the past is no reset: the short escalating cooldown applies.
        assertThat(a.report(3, Outcome.rateLimited(t0.minusSeconds(1))).until()).isEqualTo(t0.plusSeconds(5));
        assertThat(persisted)
                .containsExactly(
                        "1 RATE_LIMITED " + t0.plusSeconds(90),
                        "2 RATE_LIMITED " + t0.plus(POLICY.rateLimitMax()),
                        "3 RATE_LIMITED " + t0.plusSeconds(5));
    }

    // ---- quota exhausted: until the window resets ---------------------------------------------

    @Test
    void quotaExhausted_coolsUntilTheWindowResets_cappedAtQuotaMax_defaultWithoutReset() {
        Instant t0 = now();
        Instant reset = t0.plus(Duration.ofHours(3));
        ReportResult r = a.report(1, Outcome.quotaExhausted(reset));
        assertThat(r.kind()).isEqualTo(CooldownKind.RATE_LIMITED);
        assertThat(r.until()).isEqualTo(reset);
        assertThat(b.report(2, Outcome.quotaExhausted(t0.plus(Duration.ofDays(20))))
                        .until())
                .isEqualTo(t0.plus(POLICY.quotaMax()));
        assertThat(a.report(3, Outcome.quotaExhausted(null)).until()).isEqualTo(t0.plus(POLICY.quotaDefault()));
        assertThat(persisted).first().isEqualTo("1 RATE_LIMITED " + reset);
        Selection none = b.select(SelectRequest.of(1L, "anthropic"));
        assertThat(none).isInstanceOf(Selection.None.class);
        assertThat(((Selection.None) none).until()).isEqualTo(t0.plus(POLICY.quotaDefault()));
    }

    // ---- overload: short and escalating --------------------------------------------------------

    @Test
    void overload_isShortAndEscalating_perAccount_resetBySuccess() {
        Instant t0 = now();
        ReportResult r = a.report(1, Outcome.ofStatus(529, null));
        assertThat(r.kind()).isEqualTo(CooldownKind.OVERLOADED);
        assertThat(r.until()).isEqualTo(t0.plusSeconds(5));
        assertThat(b.report(1, Outcome.ofStatus(503, null)).until()).isEqualTo(t0.plusSeconds(15));
        assertThat(a.report(1, Outcome.of(Outcome.Kind.OVERLOADED)).until()).isEqualTo(t0.plusSeconds(30));
        assertThat(b.report(1, Outcome.of(Outcome.Kind.OVERLOADED)).until()).isEqualTo(t0.plusSeconds(60));
        assertThat(a.report(1, Outcome.of(Outcome.Kind.OVERLOADED)).until()).isEqualTo(t0.plusSeconds(60));
        // Another account's streak is its own; a 429 streak is not an overload streak.
        assertThat(a.report(2, Outcome.of(Outcome.Kind.OVERLOADED)).until()).isEqualTo(t0.plusSeconds(5));
        assertThat(a.report(1, Outcome.rateLimited(null)).until()).isEqualTo(t0.plusSeconds(5));

        clock.advance(Duration.ofSeconds(60));
        b.report(1, Outcome.of(Outcome.Kind.SUCCESS));
        assertThat(a.report(1, Outcome.of(Outcome.Kind.OVERLOADED)).until()).isEqualTo(now().plusSeconds(5));
    }

    // ---- extend-only ---------------------------------------------------------------------------

    @Test
    void aShorterNewCooldownNeverShortensALongerOne() {
        Instant t0 = now();
        Instant reset = t0.plus(Duration.ofMinutes(40));
        a.report(1, Outcome.quotaExhausted(reset));
        // A 429 without reset (5 s) on the same column leaves the quota's deadline in force.
        ReportResult r = b.report(1, Outcome.rateLimited(null));
        assertThat(r.until()).isEqualTo(reset);
        assertThat(persisted).containsExactly("1 RATE_LIMITED " + reset, "1 RATE_LIMITED " + reset);
        // An overload (another column) does not shorten it either: the account cools until the latest.
        b.report(1, Outcome.of(Outcome.Kind.OVERLOADED));
        assertThat(coolingUntil(1, null)).isEqualTo(reset);
        // A success does not end a cooldown already in force.
        a.report(1, Outcome.of(Outcome.Kind.SUCCESS));
        assertThat(coolingUntil(1, null)).isEqualTo(reset);
        clock.advance(Duration.ofMinutes(40));
        assertThat(coolingUntil(1, null)).isNull();
    }

    // ---- 401/403: as before ---------------------------------------------------------------------

    @Test
    void authFailures_keepTheirActions() {
        Instant t0 = now();
        ReportResult oauth = a.report(3, Outcome.ofStatus(401, null));
        assertThat(oauth.action()).isEqualTo(ReportResult.Action.COOLDOWN);
        assertThat(oauth.kind()).isEqualTo(CooldownKind.TEMP_UNSCHEDULABLE);
        assertThat(oauth.until()).isEqualTo(t0.plus(SelectionConfig.DEFAULTS.authFailureCooldown()));
        assertThat(b.report(1, Outcome.ofStatus(401, null)).action()).isEqualTo(ReportResult.Action.ERROR);
        assertThat(b.report(2, Outcome.ofStatus(403, null)).action()).isEqualTo(ReportResult.Action.ERROR);
        assertThat(persisted).contains("1 error", "2 error");
    }

    // ---- a refused model: that model on that account only ---------------------------------------

    @Test
    void modelUnsupported_coolsThatModelOnThatAccountOnly_onEveryInstance() {
        Instant t0 = now();
        ReportResult r = a.report(1, Outcome.modelUnsupported("claude-opus-4"));
        assertThat(r.kind()).isEqualTo(CooldownKind.MODEL_UNSUPPORTED);
        assertThat(r.model()).isEqualTo("claude-opus-4");
        assertThat(r.until()).isEqualTo(t0.plus(Duration.ofMinutes(30)));
        assertThat(r.persisted()).isTrue();
        // Nothing reaches the account's columns: the account serves its other models.
        assertThat(persisted).isEmpty();
        assertThat(coolingUntil(1, "claude-opus-4")).isEqualTo(t0.plus(Duration.ofMinutes(30)));
        assertThat(coolingUntil(1, "claude-sonnet-4")).isNull();
        assertThat(coolingUntil(1, null)).isNull();
        assertThat(coolingUntil(3, "claude-opus-4")).isNull();

        SelectRequest opus = SelectRequest.of(1L, "anthropic").withModel("claude-opus-4");
        SelectRequest sonnet = SelectRequest.of(1L, "anthropic").withModel("claude-sonnet-4");
        // Instance B skips account 1 (first in bucket order) for opus at once, and only for opus.
        assertThat(selected(b, opus)).isEqualTo(3);
        assertThat(selected(b, sonnet)).isEqualTo(1);
        assertThat(selected(b, SelectRequest.of(1L, "anthropic"))).isEqualTo(1);
        // With account 3 cooling account-wide, opus falls to the lower tier, sonnet stays on 1.
        a.report(3, Outcome.rateLimited(t0.plus(Duration.ofHours(1))));
        assertThat(selected(b, opus)).isEqualTo(2);
        assertThat(selected(b, sonnet)).isEqualTo(1);
        clock.advance(Duration.ofMinutes(30));
        assertThat(selected(b, opus)).isEqualTo(1);
    }

    @Test
    void modelUnsupported_escalatesPerModel_resetBySuccessOfThatModel() {
        CooldownPolicy p = POLICY;
        Instant t0 = now();
        assertThat(a.report(1, Outcome.modelUnsupported("m-1")).streak()).isEqualTo(1);
        assertThat(b.report(1, Outcome.modelUnsupported("m-1")).streak()).isEqualTo(2);
        assertThat(a.report(1, Outcome.modelUnsupported("m-2")).streak()).isEqualTo(1);
        assertThat(b.report(1, Outcome.modelUnsupported("m-2")).until())
                .isEqualTo(t0.plus(CooldownPolicy.step(p.modelUnsupportedSteps(), 2)));
        a.report(1, new Outcome(Outcome.Kind.SUCCESS, null, null, "m-1"));
        assertThat(a.report(1, Outcome.modelUnsupported("m-1")).streak()).isEqualTo(1);
        assertThat(a.report(1, Outcome.modelUnsupported("m-2")).streak()).isEqualTo(3);
    }

    // ---- bad input: named, nothing written ------------------------------------------------------

    @Test
    // Passes null on purpose: the contract is that it is refused.
    @SuppressWarnings("NullAway")
    void badInput_isRejectedNamingIt_andWritesNothing() {
        assertThatThrownBy(() -> a.report(99, Outcome.rateLimited(null)))
                .isInstanceOf(UnknownAccountException.class)
                .hasMessageContaining("account 99");
        assertThatThrownBy(() -> a.report(99, Outcome.modelUnsupported("m")))
                .isInstanceOf(UnknownAccountException.class);
        assertThatThrownBy(() -> a.report(0, Outcome.of(Outcome.Kind.OVERLOADED)))
                .hasMessageContaining("account id");
        assertThatThrownBy(() -> Outcome.modelUnsupported(null)).hasMessageContaining("model is required");
        assertThatThrownBy(() -> Outcome.modelUnsupported("m".repeat(129))).hasMessageContaining("at most 128");
        assertThatThrownBy(() -> SelectRequest.of(1L, "anthropic").withModel("a b"))
                .hasMessageContaining("model");
        assertThatThrownBy(() -> new Outcome(Outcome.Kind.OVERLOADED, now(), null))
                .hasMessageContaining("resetAt");
        assertThatThrownBy(() -> Outcome.Kind.parse("melted")).hasMessageContaining("error class must be one of");
        assertThat(persisted).isEmpty();
        assertThat(storeA.read(List.of(99L), null, "m").loads().get(99L)).isEqualTo(AccountLoad.IDLE);
        // The unknown account's report started no streak.
        candidates.put(card(99, 0));
        assertThat(a.report(99, Outcome.rateLimited(null)).streak()).isEqualTo(1);
    }
}
