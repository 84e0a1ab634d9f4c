package dev.roster.testkit;

import dev.roster.core.selection.AccountLoad;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * What the selection simulations (several selectors on one Redis, with or without the whole library
 * around them) share: the request mix, the sampler of Redis's own view of the slots, and the check that
 * a session leaves its account only for a cause.
 */
public final class SelectionSimulation {
    private static final String[] MODELS = {null, "m-a", "m-b"};

    private SelectionSimulation() {}

    /**
     * One use of an account by a session.
     *
     * @param account the account served
     * @param start when the select began
     * @param end when it returned
     */
    public record Use(long account, Instant start, Instant end) {}

    /**
     * A cooldown report.
     *
     * @param account the account reported
     * @param start before the call (the earliest it can apply)
     * @param returned after it (by then it is stored)
     * @param until the end of the cooldown
     */
    public record Report(long account, Instant start, Instant returned, Instant until) {}

    /**
     * The session of request {@code i} of {@code worker}: each worker owns two sessions, and a third of
     * its requests have none.
     */
    public static @Nullable String session(int worker, int i) {
        return i % 3 == 2 ? null : "w" + worker + "-s" + (i % 3);
    }

    /**
     * The model of that request: a session keeps a fixed model (or none); a request without a session
     * draws one from {@code rnd}.
     */
    public static String model(String session, int worker, int i, Random rnd) {
        return session == null ? MODELS[rnd.nextInt(3)] : MODELS[(worker + i % 3) % 3];
    }

    /**
     * Adds to {@code violations} every session that moved from account A to another while no report
     * shows A cooling at some point during the select that moved it.
     */
    public static void checkSessionMoves(
            Map<String, List<Use>> sessions, List<Report> reports, List<String> violations) {
        sessions.forEach((session, uses) -> {
            for (int i = 1; i < uses.size(); i++) {
                Use prev = uses.get(i - 1);
                Use next = uses.get(i);
                if (prev.account() != next.account()) {
                    boolean cooled = reports.stream()
                            .anyMatch(r -> r.account() == prev.account()
                                    && !r.start().isAfter(next.end())
                                    && r.until().isAfter(prev.start()));
                    if (!cooled) {
                        violations.add("session " + session + " moved " + prev.account() + " -> " + next.account()
                                + " although " + prev.account() + " stayed a candidate");
                    }
                }
            }
        });
    }

    /**
     * The simulated upstream: requests in flight per account, the most seen at once, and a violation
     * each time an account has more in flight than its concurrency.
     */
    public static final class Upstream {
        private final Map<Long, Integer> concurrency;
        private final List<String> violations;
        private final Map<Long, AtomicInteger> inFlight = new ConcurrentHashMap<>();
        private final Map<Long, AtomicInteger> max = new ConcurrentHashMap<>();

        /** An upstream for the accounts of {@code concurrency}; violations go to {@code violations}. */
        public Upstream(Map<Long, Integer> concurrency, List<String> violations) {
            this.concurrency = concurrency;
            this.violations = violations;
            concurrency.keySet().forEach(id -> {
                inFlight.put(id, new AtomicInteger());
                max.put(id, new AtomicInteger());
            });
        }

        /** A request reaches account {@code id}. */
        public void enter(long id) {
            int now = known(inFlight, id).incrementAndGet();
            known(max, id).accumulateAndGet(now, Math::max);
            if (now > known(concurrency, id)) {
                violations.add("upstream saw " + now + " requests on account " + id);
            }
        }

        /** A request on account {@code id} is answered. */
        public void leave(long id) {
            known(inFlight, id).decrementAndGet();
        }

        /** The value for an account the upstream was built with (every id it is asked about). */
        private static <V> V known(Map<Long, V> m, long id) {
            return Objects.requireNonNull(m.get(id), () -> "account " + id + " is not one of the upstream's");
        }

        /**
         * One upstream call on account {@code id}: in flight for 0.2 to 1.7 ms, then answered. Returns the
         * roll, 0 to 99, that decides what the answer was (the simulations report a few as errors).
         */
        public int call(long id, Random rnd) {
            enter(id);
            LockSupport.parkNanos(200_000 + rnd.nextInt(1_500_000));
            int roll = rnd.nextInt(100);
            leave(id);
            return roll;
        }

        /** The most requests in flight at once, per account. */
        public Map<Long, AtomicInteger> max() {
            return max;
        }
    }

    /** Reads Redis's slot counts in a loop while the requests run, noting any above an account's concurrency. */
    public static final class LoadSampler {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicInteger samples = new AtomicInteger();
        private final Thread thread;

        private LoadSampler(
                Supplier<Map<Long, AccountLoad>> loads, Map<Long, Integer> concurrency, List<String> violations) {
            thread = new Thread(() -> {
                while (running.get()) {
                    for (Map.Entry<Long, AccountLoad> e : loads.get().entrySet()) {
                        if (e.getValue().inFlight()
                                > Objects.requireNonNull(concurrency.get(e.getKey()), "concurrency")) {
                            violations.add(
                                    "Redis holds " + e.getValue().inFlight() + " slots on account " + e.getKey());
                        }
                    }
                    samples.incrementAndGet();
                }
            });
        }

        /** Starts sampling {@code loads}; violations go to {@code violations} (a thread-safe list). */
        public static LoadSampler start(
                Supplier<Map<Long, AccountLoad>> loads, Map<Long, Integer> concurrency, List<String> violations) {
            LoadSampler s = new LoadSampler(loads, concurrency, violations);
            s.thread.start();
            return s;
        }

        /** Stops sampling and waits for the last sample. */
        public void stop() throws InterruptedException {
            running.set(false);
            thread.join();
        }

        /** Samples taken so far. */
        public int samples() {
            return samples.get();
        }
    }
}
