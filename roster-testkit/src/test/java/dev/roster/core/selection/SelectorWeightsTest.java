package dev.roster.core.selection;

import static dev.roster.core.selection.TestCards.card;
import static dev.roster.core.selection.TestCards.withWeight;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Weights within a priority tier (decision SP3): with weights 1:2:4 the in-flight shares stay within
 * 10 % of 1:2:4 at low concurrency (one or two requests in flight) and near saturation, on one selector
 * and a fake clock.
 */
class SelectorWeightsTest {
    private final SelectionRig rig = new SelectionRig();
    private final SelectRequest req = SelectRequest.of(1L, "anthropic");

    private void weighted(int concurrency) {
        rig.candidates.put(List.of(
                withWeight(card(1, 0, concurrency), 1),
                withWeight(card(2, 0, concurrency), 2),
                withWeight(card(3, 0, concurrency), 4)));
    }

    /**
     * Keeps {@code inFlight} requests in flight for {@code steps} steps of one second: each step ends one
     * request (the oldest, or a random one) and selects the next; the in-flight count of each account is
     * summed after every step.
     *
     * @return the in-flight shares of accounts 1, 2, 3
     */
    private double[] run(Selector sel, int inFlight, int steps, boolean randomEnd) {
        Random random = new Random(17);
        Deque<SlotLease> held = new ArrayDeque<>();
        for (int i = 0; i < inFlight; i++) {
            held.add(take(sel));
        }
        long[] sums = new long[3];
        for (int s = 0; s < steps; s++) {
            SlotLease done;
            if (randomEnd) {
                List<SlotLease> all = new ArrayList<>(held);
                done = all.get(random.nextInt(all.size()));
                held.remove(done);
            } else {
                done = held.removeFirst();
            }
            sel.release(done);
            held.add(take(sel));
            rig.clock.advance(Duration.ofSeconds(1));
            Map<Long, AccountLoad> loads = rig.store.loads(List.of(1L, 2L, 3L));
            for (int i = 0; i < 3; i++) {
                sums[i] += loads.get(i + 1L).inFlight();
            }
        }
        double total = sums[0] + sums[1] + sums[2];
        return new double[] {sums[0] / total, sums[1] / total, sums[2] / total};
    }

    private SlotLease take(Selector sel) {
        Selection s = sel.select(req);
        assertThat(s).isInstanceOf(Selection.Acquired.class);
        return ((Selection.Acquired) s).lease();
    }

    private static void sharesNear124(double[] shares) {
        double[] want = {1 / 7.0, 2 / 7.0, 4 / 7.0};
        for (int i = 0; i < 3; i++) {
            assertThat(shares[i])
                    .as("in-flight share of the account of weight %d", 1 << i)
                    .isCloseTo(want[i], within(want[i] * 0.10));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void lowConcurrency_weightsDecideTheSplit(int inFlight) {
        weighted(10);
        sharesNear124(run(rig.selector(), inFlight, 700, false));
    }

    @Test
    void lowConcurrency_requestsEndingInAnyOrder() {
        weighted(10);
        sharesNear124(run(rig.selector(), 2, 1400, true));
    }

    @Test
    void nearSaturation_weightsDecideTheSplit() {
        // 40 in flight on three accounts of 24 slots: the weight-4 account runs near its concurrency.
        weighted(24);
        sharesNear124(run(rig.selector(), 40, 2100, true));
    }

    @Test
    void nearSaturation_concurrencyCapsTheHeavyAccount() {
        // Weights 1:2:4 on concurrency 5, 10 and 20, 33 of 35 slots in flight.
        rig.candidates.put(
                List.of(withWeight(card(1, 0, 5), 1), withWeight(card(2, 0, 10), 2), withWeight(card(3, 0, 20), 4)));
        sharesNear124(run(rig.selector(), 33, 2100, true));
    }

    @Test
    void grantsInterleave_andPriorityStaysStrictlyFirst() {
        rig.candidates.put(List.of(
                withWeight(card(1, 0, 10), 1), withWeight(card(2, 0, 10), 2), withWeight(card(3, 1, 10), 1000)));
        Selector sel = rig.selector();
        List<Long> picks = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            SlotLease l = take(sel);
            picks.add(l.accountId());
            sel.release(l);
            rig.clock.advance(Duration.ofSeconds(1));
        }
        // Smooth weighted round-robin: 2, 1, 2 repeating; the weight-1000 account of priority 1 never serves.
        assertThat(picks).containsExactly(2L, 1L, 2L, 2L, 1L, 2L);
    }

    @Test
    void equalWeights_keepTheLoadRateOrder() {
        // Weights 5:5 are equal: load rate, then least recently used, as without weights.
        rig.candidates.put(List.of(withWeight(card(1, 0, 2), 5), withWeight(card(2, 0, 4), 5)));
        Selector sel = rig.selector();
        assertThat(take(sel).accountId()).isEqualTo(1);
        rig.clock.advance(Duration.ofSeconds(1));
        // 1 is at 50 %, 2 at 0 %.
        assertThat(take(sel).accountId()).isEqualTo(2);
        rig.clock.advance(Duration.ofSeconds(1));
        // 1 at 50 %, 2 at 25 %.
        assertThat(take(sel).accountId()).isEqualTo(2);
    }
}
