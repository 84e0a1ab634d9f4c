package dev.roster.core.selection;

import static dev.roster.core.selection.TestCards.card;
import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.config.SelectionConfig;
import dev.roster.core.config.StickyHealthThresholds;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Health-aware stickiness (decisions SP2-1 to SP2-3): a bound account whose reported time-to-first-token
 * or error rate is over its threshold, once enough recent reports back it, loses its session's request to
 * another account while the binding stays, and gets the session back once it is healthy again.
 */
class SelectorStickyHealthTest {
    private static final String BINDING = "1:anthropic:conv-1";
    private static final Outcome OK = Outcome.of(Outcome.Kind.SUCCESS);
    private static final Outcome FAILED = Outcome.of(Outcome.Kind.OTHER);

    private final SelectionRig rig = new SelectionRig();
    private final SelectRequest s = SelectRequest.of(1L, "anthropic").withSession("conv-1");

    private Selector selector() {
        // Defaults: 50 %, 20 s, 5 samples, half-life 60 s.
        return rig.selector(
                SchedulingConfig.DEFAULTS, SelectionConfig.DEFAULTS.withStickyHealth(StickyHealthThresholds.DEFAULTS));
    }

    private static Selection.Acquired acquired(Selection s) {
        assertThat(s).isInstanceOf(Selection.Acquired.class);
        return (Selection.Acquired) s;
    }

    /** Binds the session with a first select and returns the bound account. */
    private long bind(Selector sel) {
        Selection.Acquired first = acquired(sel.select(s));
        sel.release(first.lease());
        assertThat(rig.store.sticky(BINDING)).hasValue(first.card().id());
        return first.card().id();
    }

    private static void report(Selector sel, long id, Outcome o, int times, Duration ttft) {
        for (int i = 0; i < times; i++) {
            sel.report(id, o, ttft);
        }
    }

    /** The session's next select: released at once; the account it got. */
    private Selection.Acquired next(Selector sel) {
        Selection.Acquired a = acquired(sel.select(s));
        sel.release(a.lease());
        return a;
    }

    @Test
    void aSlowStickyAccount_losesTheRequest_keepsTheBinding_andGetsItBackWhenItsTtftRecovers() {
        rig.candidates.put(List.of(card(1, 0, 5), card(2, 0, 5)));
        Selector sel = selector();
        long bound = bind(sel);
        report(sel, bound, OK, 6, Duration.ofSeconds(30));

        Selection.Acquired moved = next(sel);
        assertThat(moved.card().id()).isNotEqualTo(bound);
        assertThat(moved.sticky()).isFalse();
        assertThat(moved.layer()).isEqualTo(Selection.Layer.LOAD_AWARE);
        assertThat(rig.store.sticky(BINDING)).as("the binding is kept").hasValue(bound);
        assertThat(rig.counters.stickySkips().get(StickySkip.SLOW)).isEqualTo(1);

        // Fast answers bring the mean under 20 s: (6 * 30 s + 10 * 0.1 s) / 16 is about 11 s.
        report(sel, bound, OK, 10, Duration.ofMillis(100));
        Selection.Acquired back = next(sel);
        assertThat(back.card().id()).isEqualTo(bound);
        assertThat(back.sticky()).isTrue();
        assertThat(back.layer()).isEqualTo(Selection.Layer.STICKY);
        assertThat(rig.counters.stickySkips().get(StickySkip.SLOW)).isEqualTo(1);
    }

    @Test
    void aFailingStickyAccount_losesTheRequest_keepsTheBinding_andGetsItBackWhenItsErrorRateRecovers() {
        rig.candidates.put(List.of(card(1, 0, 5), card(2, 0, 5)));
        Selector sel = selector();
        long bound = bind(sel);
        report(sel, bound, FAILED, 6, null);

        Selection.Acquired moved = next(sel);
        assertThat(moved.card().id()).isNotEqualTo(bound);
        assertThat(rig.store.sticky(BINDING)).hasValue(bound);
        assertThat(rig.counters.stickySkips().get(StickySkip.ERROR_RATE)).isEqualTo(1);

        // 6 failures of 16 reports: 37.5 %, under 50 %.
        report(sel, bound, OK, 10, null);
        Selection.Acquired back = next(sel);
        assertThat(back.card().id()).isEqualTo(bound);
        assertThat(back.sticky()).isTrue();
    }

    @Test
    void theMeansCountOnlyFromMinSamples_andAnOldBadSpellFadesWithTheHalfLife() {
        rig.candidates.put(List.of(card(1, 0, 5), card(2, 0, 5)));
        Selector sel = selector();
        long bound = bind(sel);
        report(sel, bound, FAILED, 4, Duration.ofMinutes(1));
        assertThat(next(sel).card().id())
                .as("4 reports are below min_samples 5")
                .isEqualTo(bound);
        assertThat(rig.counters.stickySkips().values()).containsOnly(0L);

        report(sel, bound, FAILED, 1, Duration.ofMinutes(1));
        assertThat(next(sel).card().id()).as("the fifth report counts").isNotEqualTo(bound);
        assertThat(rig.counters.stickySkips().get(StickySkip.ERROR_RATE)).isEqualTo(1);

        // No reports for two half-lives: the weight is 5 / 4, below min_samples, and the session returns.
        rig.clock.advance(Duration.ofMinutes(2));
        Selection.Acquired back = next(sel);
        assertThat(back.card().id()).isEqualTo(bound);
        assertThat(back.sticky()).isTrue();
    }

    @Test
    void twoSelectorsOnOneStore_shareTheHealth() {
        rig.candidates.put(List.of(card(1, 0, 5), card(2, 0, 5)));
        Selector a = selector();
        Selector b = selector();
        long bound = bind(a);
        assertThat(next(b).card().id()).isEqualTo(bound);

        report(a, bound, OK, 6, Duration.ofSeconds(40));
        // Past b's load view (250 ms), so b reads the loads, and the health with them.
        rig.clock.advance(Duration.ofSeconds(1));
        assertThat(next(b).card().id()).as("b sees a's reports").isNotEqualTo(bound);
        assertThat(rig.store.sticky(BINDING)).hasValue(bound);

        report(b, bound, OK, 30, Duration.ofMillis(200));
        rig.clock.advance(Duration.ofSeconds(1));
        Selection.Acquired back = next(a);
        assertThat(back.card().id()).as("a sees b's reports").isEqualTo(bound);
        assertThat(back.sticky()).isTrue();
    }

    @Test
    void anUnhealthyStickyAccount_stillServesWhenNoOtherAccountCan_andStaysBound() {
        rig.candidates.put(List.of(card(1, 0, 5)));
        Selector sel = selector();
        bind(sel);
        report(sel, 1, FAILED, 6, null);
        Selection.Acquired a = next(sel);
        assertThat(a.card().id()).isEqualTo(1);
        assertThat(a.sticky()).isFalse();
        assertThat(rig.store.sticky(BINDING)).hasValue(1);
        assertThat(rig.counters.stickySkips().get(StickySkip.ERROR_RATE)).isEqualTo(1);
    }

    @Test
    void offThresholds_neverSkip_and429sAreNoHealthSamples() {
        rig.candidates.put(List.of(card(1, 0, 5), card(2, 0, 5)));
        Selector off = rig.selector(
                SchedulingConfig.DEFAULTS, SelectionConfig.DEFAULTS.withStickyHealth(StickyHealthThresholds.OFF));
        long bound = bind(off);
        report(off, bound, FAILED, 10, Duration.ofMinutes(5));
        assertThat(next(off).card().id()).isEqualTo(bound);

        Selector sel = selector();
        long other = bound == 1 ? 2 : 1;
        for (int i = 0; i < 10; i++) {
            sel.report(other, Outcome.rateLimited(rig.clock.instant().plusMillis(1)), null);
        }
        assertThat(rig.store.read(List.of(other), null, null).health()).doesNotContainKey(other);
    }
}
