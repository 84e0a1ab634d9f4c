package dev.roster.core.selection;

import static dev.roster.core.selection.SelectionRig.acquired;
import static dev.roster.core.selection.SelectionRig.none;
import static dev.roster.core.selection.SelectionRig.waiting;
import static dev.roster.core.selection.TestCards.card;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roster.core.AccountCard;
import dev.roster.core.GroupLink;
import dev.roster.core.config.SelectionConfig;
import dev.roster.testkit.TestClock;
import dev.roster.testkit.fake.InMemorySelectionStore;
import dev.roster.testkit.fake.InMemoryUsageLedger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The selector's layers, ordering and reports on in-memory ports and a fake clock (docs/upstream.md U-SEL). */
class SelectorTest {
    private final SelectionRig rig = new SelectionRig();
    private final SelectRequest req = SelectRequest.of(1L, "anthropic");

    private long pick(Selector sel, SelectRequest r) {
        long id = acquired(sel.select(r)).card().id();
        rig.clock.advance(Duration.ofSeconds(1));
        return id;
    }

    // ---- load-aware order ------------------------------------------------------------------

    @Test
    void loadAware_priorityThenLoadRateThenLeastRecentlyUsed_stableOverBucketOrder() {
        rig.candidates.put(List.of(card(1, 1, 2), card(2, 0, 2), card(3, 0, 2)));
        Selector sel = rig.selector();
        // Bucket order is 2, 3, 1. Equal priority, load and never used: the bucket order decides.
        assertThat(pick(sel, req)).isEqualTo(2);
        // 2 is at 50 %, 3 at 0 %.
        assertThat(pick(sel, req)).isEqualTo(3);
        // Both at 50 %; 2 was used longer ago.
        assertThat(pick(sel, req)).isEqualTo(2);
        assertThat(pick(sel, req)).isEqualTo(3);
        // Every priority-0 account is at 100 %: only now does priority 1 serve.
        assertThat(pick(sel, req)).isEqualTo(1);
        assertThat(rig.counters.acquisitions().get(Selection.Layer.LOAD_AWARE)).isEqualTo(5);
    }

    @Test
    void loadAware_loadRateOutranksLeastRecentlyUsed() {
        rig.candidates.put(List.of(card(1, 0, 4), card(2, 0, 4)));
        rig.usage.markUsed(Map.of(2L, TestClock.T0.minusSeconds(60)));
        rig.store.tryAcquire(1, 4, Duration.ofMinutes(1)); // 1: never used but at 25 %
        assertThat(pick(rig.selector(), req)).isEqualTo(2);
    }

    @Test
    void loadAware_waitingCountsInTheLoadRate() {
        rig.candidates.put(List.of(card(1, 0, 2), card(2, 0, 2)));
        rig.store.tryEnqueue(1, 10, Duration.ofMinutes(1));
        assertThat(pick(rig.selector(), req)).isEqualTo(2);
    }

    @Test
    void loadAware_neverUsedFirst_thenOldest_preferOAuthBreaksNeverUsedTies() {
        AccountCard apikey = card(1, 0, 5);
        AccountCard oauth = TestCards.withType(card(2, 0, 5), "oauth");
        rig.candidates.put(List.of(apikey, oauth));
        Selector sel = rig.selector();
        assertThat(acquired(sel.select(req)).card().id()).isEqualTo(1);
        rig.store.sweep(List.of(1L));
        InMemoryUsageLedger fresh = new InMemoryUsageLedger();
        Selector s2 = Selector.newBuilder()
                .source(rig.candidates)
                .store(new InMemorySelectionStore(rig.clock))
                .usage(fresh)
                .clock(rig.clock)
                .build();
        assertThat(acquired(s2.select(req.withPreferOAuth(true))).card().id()).isEqualTo(2);

        // Used accounts: the older first, whatever its type.
        InMemoryUsageLedger used = new InMemoryUsageLedger();
        used.markUsed(Map.of(1L, TestClock.T0.minusSeconds(10), 2L, TestClock.T0.minusSeconds(5)));
        Selector s3 = Selector.newBuilder()
                .source(rig.candidates)
                .store(new InMemorySelectionStore(rig.clock))
                .usage(used)
                .clock(rig.clock)
                .build();
        assertThat(acquired(s3.select(req.withPreferOAuth(true))).card().id()).isEqualTo(1);
    }

    @Test
    void leastRecentlyUsed_comparatorMatchesSub2api() {
        AccountCard a = card(1, 0, 1);
        AccountCard o = TestCards.withType(card(2, 0, 1), "oauth");
        Instant t = TestClock.T0;
        assertThat(Selector.leastRecentlyUsed(Map.of(), false).compare(a, o)).isZero();
        assertThat(Selector.leastRecentlyUsed(Map.of(), true).compare(a, o)).isPositive();
        assertThat(Selector.leastRecentlyUsed(Map.of(1L, t), true).compare(a, o))
                .isPositive();
        assertThat(Selector.leastRecentlyUsed(Map.of(1L, t, 2L, t.plusMillis(1)), true)
                        .compare(a, o))
                .isNegative();
        assertThat(Selector.leastRecentlyUsed(Map.of(1L, t, 2L, t), true).compare(a, o))
                .isZero();
    }

    // ---- legacy ----------------------------------------------------------------------------

    @Test
    void legacy_singleBestByPriorityAndLastUsed_waitsOnItInsteadOfTryingOthers() {
        rig.candidates.put(List.of(card(2, 0, 1), card(3, 0, 5)));
        Selector legacy = rig.selector(SelectionRig.legacy());
        assertThat(pick(legacy, req)).isEqualTo(2);
        assertThat(pick(legacy, req)).isEqualTo(3); // never used beats used
        // 2 is the older: the legacy scan picks it although it is full, and plans a wait on it.
        Selection.Wait w = waiting(legacy.select(req));
        assertThat(w.accountId()).isEqualTo(2);
        assertThat(w.layer()).isEqualTo(Selection.Layer.FALLBACK);
        assertThat(w.timeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(rig.counters.acquisitions().get(Selection.Layer.LEGACY)).isEqualTo(2);
        // The load-aware layer instead uses 3, which has room.
        assertThat(acquired(rig.selector().select(req.withWaitTicket(w.ticket())))
                        .card()
                        .id())
                .isEqualTo(3);
    }

    @Test
    void legacy_tiesGoToTheEarlierInBucketOrder() {
        rig.candidates.put(List.of(card(7, 0, 1), card(5, 0, 1)));
        assertThat(pick(rig.selector(SelectionRig.legacy()), req)).isEqualTo(5);
    }

    // ---- fallback and none -----------------------------------------------------------------

    @Test
    void fallback_waitPlanOnBestAccountWithRoom_thenSaturated() {
        rig.candidates.put(List.of(card(1, 0, 1), card(2, 1, 1)));
        Selector sel = rig.selector(SelectionRig.queues(3, 1));
        pick(sel, req);
        pick(sel, req);
        Selection.Wait w1 = waiting(sel.select(req));
        assertThat(w1.accountId()).isEqualTo(1);
        assertThat(w1.maxWaiting()).isEqualTo(1);
        assertThat(w1.sticky()).isFalse();
        Selection.Wait w2 = waiting(sel.select(req));
        assertThat(w2.accountId()).isEqualTo(2);
        Selection.None n = none(sel.select(req));
        assertThat(n.reason()).isEqualTo(Selection.Reason.SATURATED);
        assertThat(n.detail()).contains("1:anthropic:mixed").contains("queues are full");
    }

    @Test
    void waitTicket_aRetryIsCountedOnce() {
        rig.candidates.put(card(1, 0, 1));
        Selector sel = rig.selector();
        Selection.Acquired held = acquired(sel.select(req));
        Selection.Wait w = waiting(sel.select(req));
        for (int i = 0; i < 5; i++) {
            w = waiting(sel.select(req.withWaitTicket(w.ticket())));
        }
        assertThat(rig.store.loads(List.of(1L)).get(1L).waiting()).isEqualTo(1);
        sel.release(held.lease());
        acquired(sel.select(req.withWaitTicket(w.ticket())));
        assertThat(rig.store.loads(List.of(1L)).get(1L)).isEqualTo(new AccountLoad(1, 0, null));
    }

    @Test
    void none_reasonsAPersonCanActOn() {
        Selector sel = rig.selector();
        assertThat(none(sel.select(req)).reason()).isEqualTo(Selection.Reason.NO_ACCOUNTS);

        rig.candidates.put(List.of(
                TestCards.withModels(card(1, 0, 1), List.of("claude-opus-4")),
                TestCards.withModels(card(2, 0, 1), List.of("claude-opus-4"))));
        Selection.None excluded = none(sel.select(req.withExcluded(Set.of(1L, 2L))));
        assertThat(excluded.reason()).isEqualTo(Selection.Reason.ALL_EXCLUDED);
        assertThat(excluded.detail()).contains("all 2 accounts");

        Selection.None model = none(sel.select(req.withModel("claude-haiku")));
        assertThat(model.reason()).isEqualTo(Selection.Reason.MODEL_UNSUPPORTED);
        assertThat(model.detail()).contains("claude-haiku");

        sel.report(1, Outcome.rateLimited(TestClock.T0.plusSeconds(90)));
        sel.report(2, Outcome.of(Outcome.Kind.OVERLOADED));
        Selection.None cooling = none(sel.select(req.withModel("claude-opus-4")));
        assertThat(cooling.reason()).isEqualTo(Selection.Reason.COOLING_DOWN);
        // The first to end: the overload's first step.
        assertThat(cooling.until()).isEqualTo(TestClock.T0.plusSeconds(5));
        assertThat(rig.counters.nones().get(Selection.Reason.COOLING_DOWN)).isEqualTo(1);
    }

    @Test
    void candidates_staleCardsAndPlatformAdmissibilityAreRechecked() {
        // A card the list still carries but whose block started after the snapshot was read.
        AccountCard stale = TestCards.withRateLimit(card(1, 0, 1), TestClock.T0.plusSeconds(60));
        CandidateSource frozen = new CandidateSource() {
            @Override
            public dev.roster.core.service.ListResult list(Long g, String p, boolean f) {
                dev.roster.core.service.ListResult l = rig.candidates.list(g, p, f);
                List<AccountCard> cs = new ArrayList<>(l.accounts());
                cs.add(0, stale);
                cs.add(TestCards.withPlatform(card(9, 0, 1), "antigravity", false));
                return new dev.roster.core.service.ListResult(
                        l.bucket(), cs, l.useMixed(), l.generation(), l.version(), l.source());
            }

            @Override
            public java.util.Optional<AccountCard> getAccount(long id) {
                return rig.candidates.getAccount(id);
            }
        };
        rig.candidates.put(TestCards.withPlatform(card(3, 5, 1), "antigravity", true));
        Selector sel = Selector.newBuilder()
                .source(frozen)
                .store(rig.store)
                .usage(rig.usage)
                .clock(rig.clock)
                .build();
        // 1 is rate-limited now, 9 is antigravity without mixed scheduling: only the mixed account 3 is left.
        assertThat(acquired(sel.select(req)).card().id()).isEqualTo(3);
        assertThat(Selector.admissible(card(3, 0, 1), "anthropic", false)).isTrue();
        assertThat(Selector.admissible(TestCards.withPlatform(card(3, 0, 1), "antigravity", true), "anthropic", false))
                .isFalse();
        assertThat(Selector.admissible(TestCards.withPlatform(card(3, 0, 1), "antigravity", true), "gemini", true))
                .isTrue();
    }

    // ---- sticky ----------------------------------------------------------------------------

    @Test
    void sticky_sessionStaysOnItsAccount_andTheBindingIsRefreshedOnUse() {
        rig.candidates.put(List.of(card(1, 0, 5), card(2, 0, 5)));
        Selector sel = rig.selector();
        SelectRequest s = req.withSession("conv-1");
        Selection.Acquired first = acquired(sel.select(s));
        assertThat(first.sticky()).isFalse();
        sel.release(first.lease());
        for (int i = 0; i < 3; i++) {
            rig.clock.advance(Duration.ofMinutes(50));
            Selection.Acquired again = acquired(sel.select(s));
            assertThat(again.card().id()).isEqualTo(first.card().id());
            assertThat(again.sticky()).isTrue();
            assertThat(again.layer()).isEqualTo(Selection.Layer.STICKY);
            sel.release(again.lease());
        }
        assertThat(rig.counters.stickyHits()).isEqualTo(3);
        // Idle past the TTL: the binding is gone, the load-aware layer decides again.
        rig.clock.advance(Duration.ofMinutes(61));
        assertThat(acquired(sel.select(s)).sticky()).isFalse();
        assertThat(rig.counters.stickyMisses()).isEqualTo(2);
    }

    @Test
    void sticky_waitsOnItsSaturatedAccount_whileTheQueueHasRoom_thenMovesOn() {
        rig.candidates.put(List.of(card(1, 0, 1), card(2, 0, 1)));
        Selector sel = rig.selector(SelectionRig.queues(1, 100));
        SelectRequest s = req.withSession("conv-1");
        long bound = acquired(sel.select(s)).card().id();
        Selection.Wait w = waiting(sel.select(s));
        assertThat(w.accountId()).isEqualTo(bound);
        assertThat(w.sticky()).isTrue();
        assertThat(w.timeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(w.maxWaiting()).isEqualTo(1);
        // The sticky queue is full: the request moves on to the free account; the session stays bound to
        // its account, which frees a slot as soon as one call ends (decision SP2-3).
        Selection.Acquired moved = acquired(sel.select(s));
        assertThat(moved.card().id()).isNotEqualTo(bound);
        assertThat(rig.store.sticky("1:anthropic:conv-1")).hasValue(bound);
        assertThat(rig.counters.stickySkips().get(StickySkip.FULL)).isEqualTo(1);
    }

    enum Change {
        DISABLED,
        DB_RATE_LIMITED,
        REPORTED_COOLDOWN,
        LEFT_GROUP,
        MODEL_UNSUPPORTED
    }

    /**
     * Regression: claude-relay-service #1007 and new-api #4331 kept a session on an account that was cooling
     * down. A binding whose account stopped being a candidate is dropped at once and never served.
     */
    @ParameterizedTest
    @ValueSource(strings = {"DISABLED", "DB_RATE_LIMITED", "REPORTED_COOLDOWN", "LEFT_GROUP", "MODEL_UNSUPPORTED"})
    void sticky_bindingToAnAccountThatStoppedBeingACandidateIsDroppedAndNeverServed(String change) {
        AccountCard one = TestCards.withModels(card(1, 0, 5), List.of("m1", "m2"));
        rig.candidates.put(List.of(one, card(2, 1, 5)));
        Selector sel = rig.selector();
        SelectRequest s = req.withSession("conv-1").withModel("m1");
        Selection.Acquired first = acquired(sel.select(s));
        assertThat(first.card().id()).isEqualTo(1);
        sel.release(first.lease());

        Map<Change, Consumer<AccountCard>> changes = Map.of(
                Change.DISABLED, c -> rig.candidates.put(TestCards.withStatus(c, "disabled")),
                Change.DB_RATE_LIMITED,
                        c -> rig.candidates.put(TestCards.withRateLimit(c, TestClock.T0.plusSeconds(600))),
                Change.REPORTED_COOLDOWN, c -> sel.report(c.id(), Outcome.of(Outcome.Kind.OVERLOADED)),
                Change.LEFT_GROUP, c -> rig.candidates.put(TestCards.withGroups(c, List.of(new GroupLink(2, 1)))),
                Change.MODEL_UNSUPPORTED, c -> rig.candidates.put(TestCards.withModels(c, List.of("m2"))));
        changes.get(Change.valueOf(change)).accept(one);

        Selection.Acquired next = acquired(sel.select(s));
        assertThat(next.card().id()).isEqualTo(2);
        assertThat(next.sticky()).isFalse();
        assertThat(rig.counters.stickyDrops()).isEqualTo(1);
        // The session now lives on its new account.
        assertThat(rig.store.sticky("1:anthropic:conv-1")).hasValue(2L);
        sel.release(next.lease());
        assertThat(acquired(sel.select(s)).sticky()).isTrue();
    }

    @Test
    void sticky_anExcludedBoundAccountIsSkippedWithoutBeingDropped() {
        rig.candidates.put(List.of(card(1, 0, 5), card(2, 0, 5)));
        Selector sel = rig.selector();
        SelectRequest s = req.withSession("conv-1");
        acquired(sel.select(s));
        Selection.Acquired retry = acquired(sel.select(s.withExcluded(Set.of(1L))));
        assertThat(retry.card().id()).isEqualTo(2);
        assertThat(rig.counters.stickyDrops()).isZero();
    }

    /** Regression: parallel sessions piling onto one account. Equal priorities spread by load rate. */
    @Test
    void parallelSessions_spreadOverEqualPriorityAccounts() {
        for (long id = 1; id <= 5; id++) {
            rig.candidates.put(card(id, 0, 4));
        }
        Selector sel = rig.selector();
        for (int i = 0; i < 20; i++) {
            acquired(sel.select(req.withSession("session-" + i)));
        }
        Map<Long, AccountLoad> loads = rig.store.loads(List.of(1L, 2L, 3L, 4L, 5L));
        assertThat(loads.values()).allSatisfy(l -> assertThat(l.inFlight()).isEqualTo(4));
    }

    // ---- slots -----------------------------------------------------------------------------

    @Test
    void slots_aCrashedHoldersSlotFreesItselfAtLeaseExpiry() {
        rig.candidates.put(card(1, 0, 1));
        Selector sel = rig.selector(
                SelectionRig.queues(3, 100), SelectionConfig.DEFAULTS.withSlotLeaseTtl(Duration.ofSeconds(20)));
        Selection.Acquired crashed = acquired(sel.select(req));
        Selection.Wait w = waiting(sel.select(req));
        // The wait (30 s from its first enqueue, decision SP1) outlasts the 20 s lease.
        rig.clock.advance(Duration.ofSeconds(19));
        w = waiting(sel.select(req.withWaitTicket(w.ticket())));
        rig.clock.advance(Duration.ofSeconds(1));
        // Nobody released: the lease ran out, and the waiter gets the slot.
        Selection.Acquired next = acquired(sel.select(req.withWaitTicket(w.ticket())));
        assertThat(next.layer()).isEqualTo(Selection.Layer.FALLBACK);
        assertThat(sel.release(crashed.lease())).isFalse();
        assertThat(sel.release(next.lease())).isTrue();
        assertThat(sel.release(next.lease())).isFalse();
    }

    @Test
    void waiters_retryingWithTheirTicketsAreNotStarvedByEachOther() {
        rig.candidates.put(card(1, 0, 1));
        Selector sel = rig.selector();
        Selection.Acquired held = acquired(sel.select(req));
        Selection.Wait a = waiting(sel.select(req));
        Selection.Wait b = waiting(sel.select(req));
        // A fresh request queues behind the waiters (their count is in the load rate) ...
        sel.release(held.lease());
        Selection.Wait fresh = waiting(sel.select(req));
        sel.release(fresh.ticket());
        // ... while a waiter that retries gets the slot, and the other keeps waiting.
        acquired(sel.select(req.withWaitTicket(a.ticket())));
        waiting(sel.select(req.withWaitTicket(b.ticket())));
    }

    @Test
    void slots_renewExtendsALiveLease() {
        rig.candidates.put(card(1, 0, 1));
        Selector sel = rig.selector(
                SelectionRig.queues(3, 100), SelectionConfig.DEFAULTS.withSlotLeaseTtl(Duration.ofSeconds(30)));
        Selection.Acquired a = acquired(sel.select(req));
        rig.clock.advance(Duration.ofSeconds(20));
        assertThat(sel.renew(a.lease())).isTrue();
        rig.clock.advance(Duration.ofSeconds(20));
        assertThat(sel.select(req)).isInstanceOf(Selection.Wait.class);
        rig.clock.advance(Duration.ofSeconds(10));
        assertThat(sel.renew(a.lease())).isFalse();
    }

    @Test
    void slots_aFailureAfterAcquiringReleasesTheSlot() {
        rig.candidates.put(card(1, 0, 1));
        UsageLedger broken = new UsageLedger() {
            @Override
            public Map<Long, Instant> lastUsed(Collection<Long> ids) {
                return Map.of();
            }

            @Override
            public void markUsed(Map<Long, Instant> lastUsed) {
                throw new IllegalStateException("store down");
            }
        };
        Selector sel = Selector.newBuilder()
                .source(rig.candidates)
                .store(rig.store)
                .usage(broken)
                .clock(rig.clock)
                .build();
        assertThatThrownBy(() -> sel.select(req)).hasMessageContaining("store down");
        assertThat(rig.store.loads(List.of(1L)).get(1L).inFlight()).isZero();
    }

    @Test
    void sweep_deletesExpiredEntriesOfSeenAccounts() {
        rig.candidates.put(card(1, 0, 3));
        Selector sel = rig.selector(
                SelectionRig.queues(3, 100), SelectionConfig.DEFAULTS.withSlotLeaseTtl(Duration.ofSeconds(5)));
        assertThat(sel.sweepExpired()).isZero();
        acquired(sel.select(req));
        acquired(sel.select(req));
        rig.clock.advance(Duration.ofSeconds(5));
        assertThat(sel.sweepExpired()).isEqualTo(2);
        assertThat(sel.sweepExpired()).isZero();
    }

    // ---- report ----------------------------------------------------------------------------

    /** Regression: LiteLLM #40130 shortened a cooldown when a later 429 carried a shorter Retry-After. */
    @Test
    void report_aShorterLaterCooldownNeverShortensTheStoredOne() {
        rig.candidates.put(List.of(card(1, 0, 5), card(2, 1, 5)));
        Selector sel = rig.selector();
        Instant long_ = TestClock.T0.plus(Duration.ofMinutes(30));
        ReportResult r1 = sel.report(1, Outcome.rateLimited(long_));
        ReportResult r2 = sel.report(1, Outcome.rateLimited(TestClock.T0.plus(Duration.ofMinutes(1))));
        assertThat(r1.until()).isEqualTo(long_);
        assertThat(r2.until()).isEqualTo(long_);
        assertThat(r2.action()).isEqualTo(ReportResult.Action.COOLDOWN);
        // The database is told the deadline in force, never the shorter one.
        assertThat(rig.persisted).containsExactly("1 RATE_LIMITED " + long_, "1 RATE_LIMITED " + long_);
        rig.clock.advance(Duration.ofMinutes(29));
        assertThat(acquired(sel.select(req)).card().id()).isEqualTo(2);
        rig.clock.advance(Duration.ofMinutes(1));
        // The block ends at its instant.
        assertThat(acquired(sel.select(req)).card().id()).isEqualTo(1);
    }

    @Test
    void report_outcomesMapToSub2apisActions() {
        rig.candidates.put(List.of(card(1, 0, 5), TestCards.withType(card(2, 0, 5), "oauth")));
        Selector sel = rig.selector();
        Instant t0 = TestClock.T0;
        // Error classes and their escalation: decisions CD1-CD3 (CooldownPolicyContract covers each).
        assertThat(sel.report(1, Outcome.rateLimited(null)).until()).isEqualTo(t0.plusSeconds(5));
        assertThat(sel.report(1, Outcome.rateLimited(t0.minusSeconds(1))).until())
                .isEqualTo(t0.plusSeconds(10));
        ReportResult overload = sel.report(1, Outcome.ofStatus(529, null));
        assertThat(overload.kind()).isEqualTo(CooldownKind.OVERLOADED);
        assertThat(overload.until()).isEqualTo(t0.plusSeconds(5));

        ReportResult oauth401 = sel.report(2, Outcome.ofStatus(401, null));
        assertThat(oauth401.action()).isEqualTo(ReportResult.Action.COOLDOWN);
        assertThat(oauth401.kind()).isEqualTo(CooldownKind.TEMP_UNSCHEDULABLE);
        ReportResult apikey401 = sel.report(1, Outcome.ofStatus(401, null));
        assertThat(apikey401.action()).isEqualTo(ReportResult.Action.ERROR);
        assertThat(sel.report(2, Outcome.ofStatus(403, null)).action()).isEqualTo(ReportResult.Action.ERROR);
        assertThat(sel.report(2, Outcome.ofStatus(500, null)).action()).isEqualTo(ReportResult.Action.NONE);
        assertThat(sel.report(2, Outcome.ofStatus(200, null)).action()).isEqualTo(ReportResult.Action.NONE);
        assertThat(rig.persisted).contains("1 error Authentication failed (401)", "2 error Access forbidden (403)");
        assertThat(rig.counters.errors()).isEqualTo(2);
        assertThat(rig.counters.cooldowns().get(CooldownKind.RATE_LIMITED)).isEqualTo(2);
    }

    @Test
    void report_aFailingSinkStillCoolsTheAccountInTheStore() {
        rig.candidates.put(List.of(card(1, 0, 5), card(2, 1, 5)));
        Selector sel = rig.selector();
        rig.sinkFails = true;
        ReportResult r = sel.report(1, Outcome.of(Outcome.Kind.OVERLOADED));
        assertThat(r.persisted()).isFalse();
        assertThat(acquired(sel.select(req)).card().id()).isEqualTo(2);
    }

    @Test
    void report_andRequests_rejectBadInputNamingIt() {
        Selector sel = rig.selector();
        assertThatThrownBy(() -> sel.report(0, Outcome.of(Outcome.Kind.SUCCESS)))
                .hasMessageContaining("account id must be > 0");
        assertThatThrownBy(() -> new Outcome(Outcome.Kind.OVERLOADED, TestClock.T0, null))
                .hasMessageContaining("resetAt");
        assertThatThrownBy(() -> SelectRequest.of(1L, "Bad Platform")).hasMessageContaining("platform");
        assertThatThrownBy(() -> SelectRequest.of(-1L, "openai")).hasMessageContaining("group");
        assertThatThrownBy(() -> req.withSession("x".repeat(257))).hasMessageContaining("session key");
        assertThatThrownBy(() -> sel.release(1, "nope")).hasMessageContaining("slot token");
        assertThatThrownBy(() -> new SelectionConfig(
                        Duration.ZERO,
                        Duration.ofHours(1),
                        Duration.ofMinutes(1),
                        Duration.ofMinutes(1),
                        Duration.ofMinutes(1)))
                .hasMessageContaining("selection.slot_lease_ttl");
        assertThatThrownBy(() -> Selector.newBuilder().build()).hasMessageContaining("source");
    }
}
