package dev.roster.core.selection;

import static dev.roster.core.selection.TestCards.card;
import static dev.roster.core.selection.TestCards.withQuotaThresholds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roster.core.config.QuotaThresholds;
import dev.roster.core.config.SelectionConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Quota thresholds (decision SP4): reported used-% pauses an account until its window resets. */
class SelectorQuotaTest {
    private final SelectionRig rig = new SelectionRig();
    private final SelectRequest req = SelectRequest.of(1L, "anthropic");
    private final SelectionConfig at95 = SelectionConfig.DEFAULTS.withQuota(new QuotaThresholds(95, 90));

    private Outcome used(double fiveHour, Instant reset5h, double sevenDay, Instant reset7d) {
        return Outcome.of(Outcome.Kind.SUCCESS)
                .withQuota(QuotaUsage.report(fiveHour, reset5h, sevenDay, reset7d, rig.clock.instant()));
    }

    private Selection select(Selector sel) {
        Selection s = sel.select(req);
        rig.clock.advance(Duration.ofSeconds(1));
        return s;
    }

    @Test
    void atOrPastTheThreshold_theAccountIsSkippedUntilItsWindowResets() {
        rig.candidates.put(List.of(card(1, 0, 5), card(2, 1, 5)));
        Selector sel = rig.selector(SelectionRig.queues(3, 100), at95);
        Instant reset = rig.clock.instant().plus(Duration.ofHours(2));
        sel.report(1, used(95, reset, 10, rig.clock.instant().plus(Duration.ofDays(2))));

        Selection.Acquired a = (Selection.Acquired) select(sel);
        assertThat(a.card().id()).isEqualTo(2);
        assertThat(a.skipped()).isEqualTo(Map.of(1L, Selection.Reason.QUOTA_THRESHOLD));
        sel.release(a.lease());

        // Below the threshold (a new window) the account serves again, its priority first.
        rig.clock.advance(Duration.between(rig.clock.instant(), reset));
        Selection.Acquired b = (Selection.Acquired) select(sel);
        assertThat(b.card().id()).isEqualTo(1);
        assertThat(b.skipped()).isEmpty();
    }

    @Test
    void theCardsThresholdWinsOverTheDefault_andTheSevenDayWindowCounts() {
        rig.candidates.put(List.of(withQuotaThresholds(card(1, 0, 5), 99, null), card(2, 1, 5)));
        Selector sel = rig.selector(SelectionRig.queues(3, 100), at95);
        Instant now = rig.clock.instant();
        sel.report(1, used(96, now.plus(Duration.ofHours(1)), 10, now.plus(Duration.ofDays(1))));
        assertThat(((Selection.Acquired) select(sel)).card().id()).isEqualTo(1);
        // The 7-day window at the default 90 %.
        sel.report(1, used(96, now.plus(Duration.ofHours(1)), 90, now.plus(Duration.ofDays(1))));
        assertThat(((Selection.Acquired) select(sel)).card().id()).isEqualTo(2);
    }

    @Test
    void everyAccountPaused_noneWithQuotaThresholdUntilTheFirstReset() {
        rig.candidates.put(List.of(card(1, 0, 5), card(2, 0, 5)));
        Selector sel = rig.selector(SelectionRig.queues(3, 100), at95);
        Instant now = rig.clock.instant();
        Instant first = now.plus(Duration.ofHours(3));
        sel.report(1, used(100, now.plus(Duration.ofHours(4)), 0, now.plus(Duration.ofDays(1))));
        sel.report(2, used(20, now.plus(Duration.ofHours(1)), 91, first));
        Selection.None n = (Selection.None) select(sel);
        assertThat(n.reason()).isEqualTo(Selection.Reason.QUOTA_THRESHOLD);
        assertThat(n.until()).isEqualTo(first);
        rig.clock.advance(Duration.between(rig.clock.instant(), first));
        assertThat(((Selection.Acquired) select(sel)).card().id()).isEqualTo(2);
    }

    @Test
    void aReportWhoseResetHasPassedNeverPauses() {
        rig.candidates.put(List.of(card(1, 0, 5), card(2, 1, 5)));
        Selector sel = rig.selector(SelectionRig.queues(3, 100), at95);
        Instant past = rig.clock.instant().minusSeconds(1);
        sel.report(
                1, Outcome.of(Outcome.Kind.SUCCESS).withQuota(new QuotaUsage(new QuotaUsage.Window(100, past), null)));
        assertThat(((Selection.Acquired) select(sel)).card().id()).isEqualTo(1);
    }

    @Test
    void badInput_namesTheField_andWritesNothing() {
        rig.candidates.put(List.of(card(1, 0, 5)));
        Selector sel = rig.selector(SelectionRig.queues(3, 100), at95);
        Instant now = rig.clock.instant();
        assertThatThrownBy(() -> QuotaUsage.report(100.5, now.plusSeconds(60), null, null, now))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("quota_5h_used_percent");
        assertThatThrownBy(() -> QuotaUsage.report(null, null, Double.NaN, now.plusSeconds(60), now))
                .hasMessageContaining("quota_7d_used_percent");
        assertThatThrownBy(() -> QuotaUsage.report(50.0, null, null, null, now))
                .hasMessageContaining("quota_5h_reset_at is required");
        // Built without report(): the selector checks the reset before writing anything.
        QuotaUsage far = new QuotaUsage(
                new QuotaUsage.Window(99, now.plus(Duration.ofHours(1))),
                new QuotaUsage.Window(99, now.plus(Duration.ofDays(30))));
        assertThatThrownBy(() -> sel.report(1, Outcome.of(Outcome.Kind.SUCCESS).withQuota(far)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("quota_7d_reset_at");
        assertThat(rig.store.loads(List.of(1L)).get(1L).quota()).isEqualTo(QuotaUsage.NONE);
        assertThatThrownBy(() -> new QuotaUsage.Window(-1, now)).hasMessageContaining("used percent");
    }
}
