package dev.roster;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A fake upstream that answers by a script over simulated time, per account and model: bursts of 429
 * without a reset time, a model one account refuses, a 5-hour quota window that fills with the requests it
 * serves, and an account that turns slow (a long time to first token) from some instant. It also counts
 * the requests in flight per account, as the real upstream would see them, and notes a violation whenever
 * an account holds more than its concurrency.
 *
 * <p>Rules are checked in this order: a refused model, a 429 burst, the quota window, then success (slow or
 * not). The quota window's state is the only thing that changes with the requests; everything else is a
 * function of the account, the model and the instant. Thread-safe.
 */
final class ScriptedUpstream {
    /** What the upstream answered; {@link #duration()} is how long the call held its slot. */
    sealed interface Answer {
        Duration duration();
    }

    /**
     * Served.
     *
     * @param ttft time to first token
     * @param duration the whole call
     * @param used5h used-% of the account's 5-hour window after this request (0 when the account has no
     *     window in the script)
     * @param reset5h when that window resets, or {@code null} without a window
     */
    record Success(
            Duration ttft,
            Duration duration,
            int used5h,
            @Nullable Instant reset5h) implements Answer {}

    /** A 429 that announced no reset time. */
    record RateLimited(Duration duration) implements Answer {}

    /** A 400 "model not supported" for the requested model. */
    record ModelRefused(Duration duration) implements Answer {}

    /** A 429 telling that the 5-hour quota is used up, with the window's reset time. */
    record QuotaExhausted(Duration duration, Instant resetAt) implements Answer {}

    /** How long an error answer takes. */
    static final Duration ERROR_LATENCY = Duration.ofMillis(400);

    private record Burst(Instant from, Instant to) {}

    private record Refusal(String model, Instant from) {}

    private static final class QuotaWindow {
        final int percentPerRequest;
        final Duration length;
        Instant reset;
        int used;

        QuotaWindow(int percentPerRequest, Instant firstReset, Duration length) {
            this.percentPerRequest = percentPerRequest;
            this.reset = firstReset;
            this.length = length;
        }
    }

    private final Instant start;
    private final Map<Long, Integer> concurrency;
    private final List<String> violations;
    private final Map<Long, List<Burst>> bursts = new HashMap<>();
    private final Map<Long, List<Refusal>> refusals = new HashMap<>();
    private final Map<Long, Instant> slowFrom = new HashMap<>();
    private final Map<Long, QuotaWindow> quota = new HashMap<>();
    private final Map<Long, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    private final Map<Long, AtomicInteger> max = new ConcurrentHashMap<>();
    private final Duration normalTtft;
    private final Duration slowTtft;

    /**
     * An upstream whose script times count from {@code start}.
     *
     * @param concurrency each account's concurrency (the accounts it knows)
     * @param violations where in-flight violations go (thread-safe)
     */
    ScriptedUpstream(
            Instant start,
            Map<Long, Integer> concurrency,
            List<String> violations,
            Duration normalTtft,
            Duration slowTtft) {
        this.start = start;
        this.concurrency = Map.copyOf(concurrency);
        this.violations = violations;
        this.normalTtft = normalTtft;
        this.slowTtft = slowTtft;
        concurrency.keySet().forEach(id -> {
            inFlight.put(id, new AtomicInteger());
            max.put(id, new AtomicInteger());
        });
    }

    /** Account {@code id} answers every request with a 429 without reset in {@code [from, to)} (offsets from start). */
    ScriptedUpstream burst429(long id, Duration from, Duration to) {
        bursts.computeIfAbsent(id, k -> new ArrayList<>()).add(new Burst(start.plus(from), start.plus(to)));
        return this;
    }

    /** Account {@code id} refuses {@code model} from {@code from} on. */
    ScriptedUpstream refuses(long id, String model, Duration from) {
        refusals.computeIfAbsent(id, k -> new ArrayList<>()).add(new Refusal(model, start.plus(from)));
        return this;
    }

    /** Account {@code id} answers with the slow time to first token from {@code from} on. */
    ScriptedUpstream slowFrom(long id, Duration from) {
        slowFrom.put(id, start.plus(from));
        return this;
    }

    /**
     * Account {@code id} has a 5-hour window that each served request fills by {@code percentPerRequest}
     * and that first resets at {@code firstReset} (offset from start), then every 5 hours; once full it
     * answers {@link QuotaExhausted} until the reset.
     */
    ScriptedUpstream quotaWindow(long id, int percentPerRequest, Duration firstReset) {
        quota.put(id, new QuotaWindow(percentPerRequest, start.plus(firstReset), Duration.ofHours(5)));
        return this;
    }

    /** The instant the script's offsets count from. */
    Instant start() {
        return start;
    }

    /**
     * One call on account {@code id} for {@code model} at {@code now}: counted in flight until {@link
     * #done}; returns the scripted answer ({@code rnd} only draws the generation time of a success).
     */
    Answer call(long id, @Nullable String model, Instant now, Random rnd) {
        int n = known(inFlight, id).incrementAndGet();
        known(max, id).accumulateAndGet(n, Math::max);
        if (n > known(concurrency, id)) {
            violations.add("upstream saw " + n + " requests in flight on account " + id + " at " + now);
        }
        for (Refusal r : refusals.getOrDefault(id, List.of())) {
            if (r.model().equals(model) && !now.isBefore(r.from())) {
                return new ModelRefused(ERROR_LATENCY);
            }
        }
        for (Burst b : bursts.getOrDefault(id, List.of())) {
            if (!now.isBefore(b.from()) && now.isBefore(b.to())) {
                return new RateLimited(ERROR_LATENCY);
            }
        }
        int used = 0;
        @Nullable Instant reset = null;
        QuotaWindow w = quota.get(id);
        if (w != null) {
            synchronized (w) {
                while (!now.isBefore(w.reset)) {
                    w.reset = w.reset.plus(w.length);
                    w.used = 0;
                }
                if (w.used >= 100) {
                    return new QuotaExhausted(ERROR_LATENCY, w.reset);
                }
                w.used = Math.min(100, w.used + w.percentPerRequest);
                used = w.used;
                reset = w.reset;
            }
        }
        Instant slow = slowFrom.get(id);
        Duration ttft = slow != null && !now.isBefore(slow) ? slowTtft : normalTtft;
        Duration generation = Duration.ofMillis(1_000 + rnd.nextInt(4_000));
        return new Success(ttft, ttft.plus(generation), used, reset);
    }

    /** The call on account {@code id} is answered (before its slot is released). */
    void done(long id) {
        known(inFlight, id).decrementAndGet();
    }

    /** The most requests in flight at once, per account. */
    Map<Long, Integer> maxInFlight() {
        Map<Long, Integer> out = new HashMap<>();
        max.forEach((id, v) -> out.put(id, v.get()));
        return out;
    }

    private static <V> V known(Map<Long, V> m, long id) {
        return Objects.requireNonNull(m.get(id), () -> "account " + id + " is not one of the upstream's");
    }
}
