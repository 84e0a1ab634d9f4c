package dev.roster.core.selection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.config.SelectionConfig;
import dev.roster.testkit.TestClock;
import dev.roster.testkit.fake.InMemoryCandidates;
import dev.roster.testkit.fake.InMemorySelectionStore;
import dev.roster.testkit.fake.InMemoryUsageLedger;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A selector over in-memory ports on a fake clock, with a sink that records what it is told. */
final class SelectionRig {
    final TestClock clock = TestClock.at(TestClock.T0);
    final InMemoryCandidates candidates = new InMemoryCandidates(clock);
    final InMemorySelectionStore store = new InMemorySelectionStore(clock);
    final InMemoryUsageLedger usage = new InMemoryUsageLedger();
    final SelectionCounters counters = new SelectionCounters();
    final List<String> persisted = new CopyOnWriteArrayList<>();
    volatile boolean sinkFails;
    final CooldownSink sink = new CooldownSink() {
        @Override
        public void extend(long accountId, CooldownKind kind, Instant until) {
            check();
            persisted.add(accountId + " " + kind + " " + until);
        }

        @Override
        public void markError(long accountId, String message) {
            check();
            persisted.add(accountId + " error " + message);
        }

        private void check() {
            if (sinkFails) {
                throw new IllegalStateException("database down");
            }
        }
    };

    Selector selector(SchedulingConfig scheduling) {
        return selector(scheduling, SelectionConfig.DEFAULTS);
    }

    Selector selector(SchedulingConfig scheduling, SelectionConfig selection) {
        return Selector.newBuilder()
                .source(candidates)
                .store(store)
                .usage(usage)
                .cooldownSink(sink)
                .scheduling(scheduling)
                .selection(selection)
                .clock(clock)
                .metrics(counters)
                .build();
    }

    Selector selector() {
        return selector(SchedulingConfig.DEFAULTS);
    }

    /** {@code s} as an acquisition, failing the test when it is another answer. */
    static Selection.Acquired acquired(Selection s) {
        assertThat(s).isInstanceOf(Selection.Acquired.class);
        return (Selection.Acquired) s;
    }

    /** {@code s} as a wait plan, failing the test when it is another answer. */
    static Selection.Wait waiting(Selection s) {
        assertThat(s).isInstanceOf(Selection.Wait.class);
        return (Selection.Wait) s;
    }

    /** {@code s} as a none, failing the test when it is another answer. */
    static Selection.None none(Selection s) {
        assertThat(s).isInstanceOf(Selection.None.class);
        return (Selection.None) s;
    }

    static SchedulingConfig legacy() {
        return SchedulingConfig.DEFAULTS.toBuilder().loadBatchEnabled(false).build();
    }

    static SchedulingConfig queues(int stickyMax, int fallbackMax) {
        return SchedulingConfig.DEFAULTS.toBuilder()
                .stickySessionMaxWaiting(stickyMax)
                .fallbackMaxWaiting(fallbackMax)
                .build();
    }
}
