package dev.roster.core.selection;

import static dev.roster.core.selection.TestCards.card;
import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountLimits;
import dev.roster.core.config.SelectionConfig;
import dev.roster.testkit.ForwardingSelectionStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * The selector's load view (decision S5 under "One-round-trip selection and new card fields"): while its
 * loads are fresh, a select without a session makes one store call, the acquisition; a stale view, a
 * view that found no slot, and a zero max age read the store again.
 */
class SelectorLoadViewTest {
    private final SelectionRig rig = new SelectionRig();
    private final List<String> calls = new ArrayList<>();
    private final SelectRequest req = SelectRequest.of(1L, "anthropic");

    private final class Counting extends ForwardingSelectionStore {
        Counting() {
            super(rig.store);
        }

        @Override
        public SlotAttempt tryAcquire(long accountId, String model, int concurrency, Duration ttl, String token) {
            calls.add("acquire " + accountId);
            return super.tryAcquire(accountId, model, concurrency, ttl, token);
        }

        @Override
        public Reading read(Collection<Long> accountIds, String bindingKey, String model) {
            calls.add("read");
            return super.read(accountIds, bindingKey, model);
        }

        @Override
        public OptionalLong sticky(String bindingKey) {
            calls.add("sticky");
            return super.sticky(bindingKey);
        }

        @Override
        public void bindSticky(String bindingKey, long accountId, Duration ttl) {
            calls.add("bind");
            super.bindSticky(bindingKey, accountId, ttl);
        }
    }

    private Selector selector(Duration maxAge) {
        return Selector.newBuilder()
                .source(rig.candidates)
                .store(new Counting())
                .usage(rig.usage)
                .selection(SelectionConfig.DEFAULTS.withLoadViewMaxAge(maxAge))
                .clock(rig.clock)
                .build();
    }

    @Test
    void aFreshViewLeavesOneStoreCallPerSelect() {
        rig.candidates.put(List.of(card(1, 0, 10), card(2, 0, 10)));
        Selector sel = selector(Duration.ofMillis(250));
        assertThat(sel.select(req)).isInstanceOf(Selection.Acquired.class);
        assertThat(calls).containsExactly("read", "acquire 1");
        calls.clear();
        assertThat(sel.select(req)).isInstanceOf(Selection.Acquired.class);
        assertThat(sel.select(req)).isInstanceOf(Selection.Acquired.class);
        // The view counted its own slots: 1 holds one, so 2 comes next, then 1 again (least recently used).
        assertThat(calls).containsExactly("acquire 2", "acquire 1");

        rig.clock.advance(Duration.ofMillis(250));
        calls.clear();
        sel.select(req);
        assertThat(calls)
                .as("a view as old as the max age is read again")
                .first()
                .isEqualTo("read");
    }

    @Test
    void anAccountTheViewCountsAsFullIsReadAgainBeforeAWorsePriority_andNoWaitIsPlannedOnTheViewsWord() {
        rig.candidates.put(List.of(card(1, 0, 1), card(2, 1, 5)));
        Selector sel = selector(Duration.ofSeconds(5));
        Selection.Acquired first = (Selection.Acquired) sel.select(req);
        assertThat(first.card().id()).isEqualTo(1);
        // Another instance frees the slot; this view still counts it: the loads are read again before
        // priority 1 is tried.
        rig.store.release(first.lease().accountId(), first.lease().token());
        calls.clear();
        Selection.Acquired again = (Selection.Acquired) sel.select(req);
        assertThat(again.card().id()).as("the slot another instance freed").isEqualTo(1);
        assertThat(calls).containsExactly("read", "acquire 1");

        // Every slot held and a cooldown set elsewhere on account 2: the wait plan is made on fresh loads.
        for (int i = 0; i < 5; i++) {
            rig.store.tryAcquire(2, 5, Duration.ofMinutes(1));
        }
        rig.store.extendCooldown(1, CooldownKind.OVERLOADED, rig.clock.instant().plusSeconds(30));
        calls.clear();
        Selection s = sel.select(req);
        assertThat(calls).as("calls of a select that finds no slot").contains("read");
        assertThat(s).isInstanceOf(Selection.Wait.class);
        assertThat(((Selection.Wait) s).accountId())
                .as("no wait on the cooling account")
                .isEqualTo(2);
    }

    @Test
    void aZeroMaxAgeReadsOnEverySelect_andAnRpmFullAccountIsNamedInTheResult() {
        AccountLimits twoPerMinute = new AccountLimits(2, 1, null, null);
        rig.candidates.put(List.of(card(1, 0, 10).withLimits(twoPerMinute), card(2, 1, 10)));
        Selector sel = selector(Duration.ZERO);
        sel.select(req);
        sel.select(req);
        calls.clear();
        Selection.Acquired third = (Selection.Acquired) sel.select(req);
        assertThat(calls).first().isEqualTo("read");
        assertThat(third.card().id()).isEqualTo(2);
        assertThat(third.skipped()).containsExactly(java.util.Map.entry(1L, Selection.Reason.RPM_FULL));
        rig.clock.advance(Duration.ofSeconds(60));
        assertThat(((Selection.Acquired) sel.select(req)).card().id())
                .as("a minute later the window has room again")
                .isEqualTo(1);
    }
}
