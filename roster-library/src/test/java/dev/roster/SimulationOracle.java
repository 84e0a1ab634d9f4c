package dev.roster;

import dev.roster.ScriptedSimulation.Call;
import dev.roster.ScriptedSimulation.ClientError;
import dev.roster.ScriptedSimulation.Report;
import dev.roster.ScriptedSimulation.Run;
import dev.roster.core.selection.CooldownKind;
import dev.roster.core.selection.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * The independent judge of a {@link Run}: every check works from the driver's log alone (calls with their
 * grant and release ticks, reports with what the store answered, client errors) and the script's own
 * figures (and, for the bindings, Redis's raw keys), and shares no code with selection. Each check returns its violations (empty when it holds) or
 * the figures it measured.
 */
final class SimulationOracle {
    private static final long WINDOW_TICKS = Duration.ofSeconds(60).dividedBy(ScriptedSimulation.TICK);

    private SimulationOracle() {}

    /**
     * In flight per account from the log: a call holds its slot over {@code [startTick, endTick)}; at no
     * tick may an account hold more than its concurrency.
     */
    static List<String> inFlightWithinConcurrency(Run run) {
        List<String> out = new ArrayList<>();
        Map<Long, TreeMap<Long, Integer>> deltas = new HashMap<>();
        for (Call c : run.calls()) {
            TreeMap<Long, Integer> d = deltas.computeIfAbsent(c.account(), k -> new TreeMap<>());
            d.merge(c.startTick(), 1, Integer::sum);
            d.merge(c.endTick(), -1, Integer::sum);
        }
        deltas.forEach((account, d) -> {
            int n = 0;
            for (Map.Entry<Long, Integer> e : d.entrySet()) {
                n += e.getValue();
                int limit = Objects.requireNonNull(run.concurrency().get(account), "concurrency");
                if (n > limit) {
                    out.add("account " + account + " held " + n + " calls at tick " + e.getKey() + " (concurrency "
                            + limit + ")");
                }
            }
        });
        return out;
    }

    /** For every account with an RPM limit and every grant at t: grants in (t - 60 s, t] at most the limit. */
    static List<String> rpmInEverySlidingWindow(Run run) {
        List<String> out = new ArrayList<>();
        run.rpmLimit().forEach((account, limit) -> {
            List<Long> starts = run.calls().stream()
                    .filter(c -> c.account() == account)
                    .map(Call::startTick)
                    .sorted()
                    .toList();
            int from = 0;
            for (int i = 0; i < starts.size(); i++) {
                long t = starts.get(i);
                while (starts.get(from) <= t - WINDOW_TICKS) {
                    from++;
                }
                // starts[from..i] lie in (t - window, t]; later grants at the same tick count too.
                int j = i;
                while (j + 1 < starts.size() && starts.get(j + 1) == t) {
                    j++;
                }
                int n = j - from + 1;
                if (n > limit) {
                    out.add("account " + account + " had " + n + " requests in the 60 s ending at " + run.at(t)
                            + " (rpm_limit " + limit + ")");
                }
            }
        });
        return out;
    }

    /**
     * No call starts on an account after a report (at an earlier tick) put it, or the call's model on
     * it, into a cooldown that was still running at the call's start.
     */
    static List<String> cooldownsHonoured(Run run) {
        List<String> out = new ArrayList<>();
        for (Report r : run.reports()) {
            Instant until = r.result().until();
            CooldownKind kind = r.result().kind();
            if (until == null || kind == null) {
                continue;
            }
            for (Call c : run.calls()) {
                boolean applies = kind == CooldownKind.MODEL_UNSUPPORTED
                        ? Objects.equals(c.model(), r.result().model())
                        : true;
                if (c.account() == r.account()
                        && applies
                        && c.startTick() > r.tick()
                        && run.at(c.startTick()).isBefore(until)) {
                    out.add("account " + c.account() + " served " + c.model() + " at " + run.at(c.startTick())
                            + " inside a " + kind + " cooldown until " + until + " reported at " + run.at(r.tick()));
                }
            }
        }
        return out;
    }

    /** The cooldown each 429 without reset on {@code account} put in force (until minus the report's instant). */
    static List<Duration> rateLimitCooldowns(Run run, long account) {
        List<Duration> out = new ArrayList<>();
        for (Report r : run.reports()) {
            if (r.account() == account
                    && r.outcome().kind() == Outcome.Kind.RATE_LIMITED
                    && r.outcome().resetAt() == null) {
                out.add(Duration.between(
                        run.at(r.tick()), Objects.requireNonNull(r.result().until(), "until")));
            }
        }
        return out;
    }

    /**
     * What each burst of 429s cost {@code account}: from the burst's last 429 answer (the tick it was
     * reported) to the next call on the account (to the end of the run when none came). A 429 more than
     * a minute after the previous one starts a new burst.
     */
    static List<Duration> burstCosts(Run run, long account) {
        List<Long> ticks = run.calls().stream()
                .filter(c -> c.account() == account && c.answer() instanceof ScriptedUpstream.RateLimited)
                .map(Call::endTick)
                .sorted()
                .toList();
        List<Duration> out = new ArrayList<>();
        for (int i = 0; i < ticks.size(); i++) {
            long last = ticks.get(i);
            if (i + 1 < ticks.size() && ticks.get(i + 1) - last <= WINDOW_TICKS) {
                continue;
            }
            long next = run.calls().stream()
                    .filter(c -> c.account() == account && c.startTick() > last)
                    .mapToLong(Call::startTick)
                    .min()
                    .orElse(run.ticks());
            out.add(ScriptedSimulation.TICK.multipliedBy(next - last));
        }
        return out;
    }

    /**
     * The model refused by {@code account}: how many calls of other models the account started within
     * {@code window} after its first refusal of {@code model} (the tick that answer came back). Adds to
     * {@code violations} when no refusal was seen at all.
     */
    static int otherModelsServedAfterRefusal(
            Run run, long account, String model, Duration window, List<String> violations) {
        OptionalLong first = run.calls().stream()
                .filter(c -> c.account() == account
                        && model.equals(c.model())
                        && c.answer() instanceof ScriptedUpstream.ModelRefused)
                .mapToLong(Call::endTick)
                .min();
        if (first.isEmpty()) {
            violations.add("account " + account + " never refused " + model);
            return 0;
        }
        long t = first.getAsLong();
        long end = t + window.dividedBy(ScriptedSimulation.TICK);
        return (int) run.calls().stream()
                .filter(c ->
                        c.account() == account && !model.equals(c.model()) && c.startTick() > t && c.startTick() <= end)
                .count();
    }

    /** The calls of {@code model} started on {@code account} after its first refusal of it, and their answers. */
    static List<String> refusedModelCallsAfterRefusal(Run run, long account, String model) {
        long first = run.calls().stream()
                .filter(c -> c.account() == account
                        && model.equals(c.model())
                        && c.answer() instanceof ScriptedUpstream.ModelRefused)
                .mapToLong(Call::endTick)
                .min()
                .orElse(Long.MAX_VALUE);
        return run.calls().stream()
                .filter(c -> c.account() == account && model.equals(c.model()) && c.startTick() > first)
                .map(c -> "account " + account + " sent " + model + " again at " + run.at(c.startTick()))
                .toList();
    }

    /** The client requests that got no account at all (a {@code Selection.None}). */
    static int noAccount(Run run) {
        return (int) run.errors().stream().filter(ClientError::none).count();
    }

    /** Client errors by cause (a {@code Selection.Reason} name, {@code WAIT_TIMEOUT} or {@code UPSTREAM_ERROR}). */
    static Map<String, Integer> clientErrors(Run run) {
        Map<String, Integer> out = new TreeMap<>();
        for (ClientError e : run.errors()) {
            out.merge(e.cause(), 1, Integer::sum);
        }
        return out;
    }

    /**
     * The client errors a cooldown caused: every candidate cooling in the shared store ({@code
     * COOLING_DOWN}), or every account's cooldown already in the snapshots, whose time filter then leaves
     * no schedulable account ({@code NO_ACCOUNTS}: the pool of the simulation has no other way to be empty).
     */
    static int cooldownErrors(Map<String, Integer> byCause) {
        return byCause.getOrDefault("COOLING_DOWN", 0) + byCause.getOrDefault("NO_ACCOUNTS", 0);
    }

    // ---- steps for features still to come (not called yet) -----------------------------------

    /**
     * Step (a), quota thresholds: once a success report told that {@code account}'s 5-hour window reached
     * {@code threshold} % (at tick t, window resetting at r), no call starts on the account in (t, r); the
     * upstream never had to answer it with an exhausted quota; and the account serves again after r when
     * the run lasts that long. Needs the driver to report the used-% and reset of each success.
     */
    static List<String> quotaThresholdStep(Run run, long account, int threshold) {
        List<String> out = new ArrayList<>();
        Call reached = run.calls().stream()
                .filter(c -> c.account() == account
                        && c.answer() instanceof ScriptedUpstream.Success s
                        && s.used5h() >= threshold)
                .min((a, b) -> Long.compare(a.endTick(), b.endTick()))
                .orElse(null);
        if (reached == null) {
            out.add("account " + account + " never reached " + threshold + " % of its 5-hour window");
            return out;
        }
        Instant reset = Objects.requireNonNull(((ScriptedUpstream.Success) reached.answer()).reset5h(), "reset5h");
        for (Call c : run.calls()) {
            if (c.account() == account
                    && c.startTick() > reached.endTick()
                    && run.at(c.startTick()).isBefore(reset)) {
                out.add("account " + account + " served at " + run.at(c.startTick()) + " past its threshold until "
                        + reset);
            }
            if (c.account() == account && c.answer() instanceof ScriptedUpstream.QuotaExhausted) {
                out.add("account " + account + " was sent a request its exhausted quota refused at "
                        + run.at(c.startTick()));
            }
        }
        boolean runsPastReset = run.at(run.ticks()).isAfter(reset.plusSeconds(60));
        if (runsPastReset
                && run.calls().stream()
                        .noneMatch(c ->
                                c.account() == account && !run.at(c.startTick()).isBefore(reset))) {
            out.add("account " + account + " did not serve again after its window reset at " + reset);
        }
        return out;
    }

    /**
     * The slow sticky account: the sessions whose binding (read from Redis when the account turned slow)
     * named {@code account} still name it at the end, each made requests after {@code grace} from the
     * account's first slow answer, and none of those landed on {@code account} while {@code spare} (an
     * account with no RPM limit and no cooldown from then on) surely had a free slot: counted from the log
     * conservatively, every call that held {@code spare} at any moment of the tick counts, so only a tick in
     * which {@code spare} was below its concurrency throughout accuses.
     *
     * @param checked receives how many such calls of the bound sessions were judged (landed anywhere at a
     *     tick where {@code spare} had room)
     */
    static List<String> slowStickyStep(
            Run run, long account, long spare, Duration grace, java.util.concurrent.atomic.AtomicInteger checked) {
        List<String> out = new ArrayList<>();
        Set<String> bound = new HashSet<>();
        run.bindingsAtSnapshot().forEach((s, b) -> {
            if (b.isPresent() && b.getAsLong() == account) {
                bound.add(s);
            }
        });
        @Nullable
        Call firstSlow = run.calls().stream()
                .filter(c -> c.account() == account
                        && c.answer() instanceof ScriptedUpstream.Success s
                        && s.ttft().compareTo(Duration.ofSeconds(5)) > 0)
                .min((a, b) -> Long.compare(a.endTick(), b.endTick()))
                .orElse(null);
        if (bound.isEmpty() || firstSlow == null) {
            out.add("no session was bound to account " + account + " when it turned slow (" + bound
                    + "), or it never answered slowly");
            return out;
        }
        long detected = firstSlow.endTick() + grace.dividedBy(ScriptedSimulation.TICK);
        int spareLimit = Objects.requireNonNull(run.concurrency().get(spare), "spare concurrency");
        for (String s : bound) {
            List<Call> later = run.calls().stream()
                    .filter(c -> s.equals(c.session()) && c.startTick() > detected)
                    .toList();
            if (later.isEmpty()) {
                out.add("session " + s + " made no request after the slowness was detected");
            }
            for (Call c : later) {
                long t = c.startTick();
                long held = run.calls().stream()
                        .filter(o -> o.account() == spare && o.startTick() <= t && o.endTick() >= t)
                        .count();
                if (held >= spareLimit) {
                    continue;
                }
                checked.incrementAndGet();
                if (c.account() == account) {
                    out.add("session " + s + " served by slow account " + account + " at " + run.at(t) + " while "
                            + spare + " held " + held + " of " + spareLimit);
                }
            }
            OptionalLong b = run.bindingsAtEnd().getOrDefault(s, OptionalLong.empty());
            if (b.isEmpty() || b.getAsLong() != account) {
                out.add("session " + s + " lost its binding to account " + account + ": " + b);
            }
        }
        return out;
    }
}
