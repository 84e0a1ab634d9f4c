package dev.roster.core.selection;

import static dev.roster.core.selection.TestCards.card;
import static dev.roster.core.selection.TestCards.withWeight;
import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.config.SelectionConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * {@code selection.prefer_soonest_reset} (decision SP6): within a priority tier the account whose quota
 * window resets soonest is tried first, one with no live window last; priority tiers stay strictly first;
 * accounts resetting in the same minute keep the normal load and weight order among themselves.
 */
class SelectorSoonestResetTest {
    private final SelectionRig rig = new SelectionRig();
    private final SelectRequest req = SelectRequest.of(1L, "anthropic");
    private final SelectionConfig soonest = SelectionConfig.DEFAULTS.withPreferSoonestReset(true);

    private Selector selector(SelectionConfig config) {
        return rig.selector(SchedulingConfig.DEFAULTS, config);
    }

    private Instant in(Duration d) {
        return rig.clock.instant().plus(d);
    }

    private static void report(
            Selector sel, long id, @Nullable Instant reset5h, @Nullable Instant reset7d, Instant now) {
        sel.report(
                id,
                Outcome.of(Outcome.Kind.SUCCESS)
                        .withQuota(QuotaUsage.report(
                                reset5h == null ? null : 10.0, reset5h, reset7d == null ? null : 10.0, reset7d, now)));
    }

    /** Four accounts of one tier, concurrency 1: 1 reports nothing, 2 resets in 4 h, 3 in 1 h, 4 in 2 h. */
    private void fourAccounts(Selector sel) {
        Instant now = rig.clock.instant();
        // The soonest of the two windows counts: 4's 7-day window resets before its 5-hour one.
        report(sel, 2, in(Duration.ofHours(4)), in(Duration.ofDays(2)), now);
        report(sel, 3, in(Duration.ofHours(1)), null, now);
        report(sel, 4, in(Duration.ofHours(3)), in(Duration.ofHours(2)), now);
    }

    /** The accounts of {@code n} selects whose slots stay held, in the order they were acquired. */
    private List<Long> holdInTurn(Selector sel, int n) {
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add(SelectionRig.acquired(sel.select(req)).card().id());
        }
        return ids;
    }

    @Test
    void off_theNormalOrderIgnoresResets() {
        rig.candidates.put(List.of(card(1, 0, 1), card(2, 0, 1), card(3, 0, 1), card(4, 0, 1)));
        Selector sel = selector(SelectionConfig.DEFAULTS);
        fourAccounts(sel);
        assertThat(holdInTurn(sel, 4)).containsExactly(1L, 2L, 3L, 4L);
    }

    @Test
    void on_theSoonestResetFirst_noWindowLast() {
        rig.candidates.put(List.of(card(1, 0, 1), card(2, 0, 1), card(3, 0, 1), card(4, 0, 1)));
        Selector sel = selector(soonest);
        fourAccounts(sel);
        assertThat(holdInTurn(sel, 4)).containsExactly(3L, 4L, 2L, 1L);
    }

    @Test
    void aWindowThatHasResetCountsAsNoWindow() {
        rig.candidates.put(List.of(card(1, 0, 1), card(2, 0, 1), card(3, 0, 1), card(4, 0, 1)));
        Selector sel = selector(soonest);
        fourAccounts(sel);
        rig.clock.advance(Duration.ofHours(1));
        // 3's window has reset: it joins 1 among the accounts without a window, in the normal order.
        assertThat(holdInTurn(sel, 4)).containsExactly(4L, 2L, 1L, 3L);
    }

    @Test
    void prioritiesStayStrictlyFirst() {
        rig.candidates.put(List.of(card(1, 0, 1), card(2, 1, 1), card(3, 1, 1), card(4, 1, 1)));
        Selector sel = selector(soonest);
        fourAccounts(sel);
        // 1 has no window but the better priority.
        assertThat(holdInTurn(sel, 4)).containsExactly(1L, 3L, 4L, 2L);
    }

    @Test
    void sameMinute_theWeightsSplitTheGrants_andALaterResetWaits() {
        rig.candidates.put(
                List.of(withWeight(card(1, 0, 10), 1), withWeight(card(2, 0, 10), 3), withWeight(card(3, 0, 10), 4)));
        Selector sel = selector(soonest);
        Instant now = rig.clock.instant();
        // 1 and 2 reset within the same minute (T0 is on a whole minute), 3 an hour later.
        report(sel, 1, in(Duration.ofHours(1)), null, now);
        report(sel, 2, in(Duration.ofHours(1).plusSeconds(20)), null, now);
        report(sel, 3, in(Duration.ofHours(2)), null, now);
        Map<Long, Integer> grants = new TreeMap<>();
        for (int i = 0; i < 40; i++) {
            Selection.Acquired a = SelectionRig.acquired(sel.select(req));
            grants.merge(a.card().id(), 1, Integer::sum);
            sel.release(a.lease());
            rig.clock.advance(Duration.ofSeconds(1));
        }
        // Smooth weighted round-robin between 1 and 2 alone: exactly 1:3.
        assertThat(grants).isEqualTo(Map.of(1L, 10, 2L, 30));
    }

    @Test
    void sameMinute_equalWeightsKeepTheLoadRateOrder() {
        rig.candidates.put(List.of(card(1, 0, 2), card(2, 0, 4), card(3, 0, 4)));
        Selector sel = selector(soonest);
        Instant now = rig.clock.instant();
        report(sel, 1, in(Duration.ofMinutes(30)), null, now);
        report(sel, 2, in(Duration.ofMinutes(30).plusSeconds(5)), null, now);
        // 1 first (never used, bucket order), then 2 (1 at 50 %), 2 again (25 % < 50 %); 3 has no window.
        assertThat(holdInTurn(sel, 3)).containsExactly(1L, 2L, 2L);
    }
}
