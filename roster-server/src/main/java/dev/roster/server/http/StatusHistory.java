package dev.roster.server.http;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The last 15 minutes of replay samples, in memory, for the status page's chart. A sample is taken
 * whenever the server refreshes its outbox figures (every 2 s); rates are differences of the
 * monotonic counters between two samples, so nothing here grows with traffic. Lost on restart, by
 * design: the history is for "what happened just now", Prometheus keeps the long one.
 */
final class StatusHistory {
    /** How far back samples are kept. */
    static final Duration WINDOW = Duration.ofMinutes(15);

    /**
     * One sample.
     *
     * @param at when it was taken
     * @param watermark the shared outbox watermark
     * @param pending pending outbox events
     * @param lagSeconds age of the oldest pending event (0 when none)
     * @param eventsPerSecond events applied by the replayer per second since the previous sample
     * @param coalescing events applied per bucket rebuild since the previous sample (null without rebuilds)
     * @param requestsPerSecond hot-path answers per second since the previous sample
     * @param nearCacheHitRatio share of hot-path answers from the near cache (null without answers)
     * @param fallbackPerSecond database fallback queries per second since the previous sample
     */
    record Sample(
            Instant at,
            long watermark,
            long pending,
            double lagSeconds,
            double eventsPerSecond,
            @Nullable Double coalescing,
            double requestsPerSecond,
            @Nullable Double nearCacheHitRatio,
            double fallbackPerSecond) {}

    /**
     * Monotonic counters at one instant.
     *
     * @param at when read
     * @param applied events applied
     * @param rebuilds bucket rebuilds by the replayer
     * @param near hot-path answers from the near cache
     * @param answers every hot-path answer
     * @param fallback database fallback queries
     */
    record Counters(Instant at, long applied, long rebuilds, long near, long answers, long fallback) {}

    private final ArrayDeque<Sample> samples = new ArrayDeque<>();
    private @Nullable Counters previous;

    /** Adds a sample from the outbox figures and the counters now. */
    synchronized void add(long watermark, long pending, double lagSeconds, Counters now) {
        Counters p = previous;
        previous = now;
        if (p == null || !now.at().isAfter(p.at())) {
            samples.addLast(new Sample(now.at(), watermark, pending, lagSeconds, 0, null, 0, null, 0));
        } else {
            double secs = Duration.between(p.at(), now.at()).toMillis() / 1000.0;
            long applied = Math.max(0, now.applied() - p.applied());
            long rebuilds = Math.max(0, now.rebuilds() - p.rebuilds());
            long answers = Math.max(0, now.answers() - p.answers());
            long near = Math.max(0, now.near() - p.near());
            long fallback = Math.max(0, now.fallback() - p.fallback());
            samples.addLast(new Sample(
                    now.at(),
                    watermark,
                    pending,
                    lagSeconds,
                    applied / secs,
                    rebuilds == 0 ? null : (double) applied / rebuilds,
                    answers / secs,
                    answers == 0 ? null : (double) near / answers,
                    fallback / secs));
        }
        Instant cutoff = now.at().minus(WINDOW);
        while (!samples.isEmpty() && samples.peekFirst().at().isBefore(cutoff)) {
            samples.removeFirst();
        }
    }

    /** The samples, oldest first. */
    synchronized List<Sample> samples() {
        return List.copyOf(samples);
    }
}
