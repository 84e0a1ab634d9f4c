package dev.roster.core.selection;

import java.time.Duration;
import java.time.Instant;

/**
 * One account's health as the gateway reported it, shared by every instance (decision SP2-1): the error
 * rate and the time-to-first-token, each an exponentially weighted mean over time. A report weighs 1 when
 * it arrives and half as much every half-life after; the mean is the weighted mean of every report, and
 * the weight is how much evidence it rests on. The store updates both in one atomic step per report.
 *
 * @param errorRate the weighted share of failed reports, 0..1
 * @param errorWeight the summed weight of the reports behind {@code errorRate} at {@code at}, {@code >= 0}
 * @param ttftMs the weighted mean time-to-first-token in milliseconds, {@code >= 0}
 * @param ttftWeight the summed weight of the reports that carried a time-to-first-token, at {@code at}
 * @param at when the last report arrived (the weights are as of then)
 */
public record AccountHealth(double errorRate, double errorWeight, double ttftMs, double ttftWeight, Instant at) {
    /** An account nothing was reported for. */
    public static final AccountHealth NONE = new AccountHealth(0, 0, 0, 0, Instant.EPOCH);

    public AccountHealth {
        if (!(errorRate >= 0 && errorRate <= 1)) {
            throw new IllegalArgumentException("error rate must be in 0..1, got " + errorRate);
        }
        if (!(errorWeight >= 0) || !(ttftMs >= 0) || !(ttftWeight >= 0)) {
            throw new IllegalArgumentException(
                    "health weights and ttft must be >= 0, got " + errorWeight + ", " + ttftMs + ", " + ttftWeight);
        }
        java.util.Objects.requireNonNull(at, "at");
    }

    /** The weight behind the error rate at {@code now}, decayed by {@code halfLife} since the last report. */
    public double errorSamples(Instant now, Duration halfLife) {
        return decayed(errorWeight, now, halfLife);
    }

    /** The weight behind the time-to-first-token at {@code now}. */
    public double ttftSamples(Instant now, Duration halfLife) {
        return decayed(ttftWeight, now, halfLife);
    }

    /**
     * This health after one more report at {@code now}: the weights decay by the time since {@link #at},
     * then the report joins with weight 1. The store runs the same arithmetic atomically (in a script on
     * Redis); this is its definition.
     *
     * @param failed whether the report is a failure
     * @param ttftMs its time-to-first-token in ms, or a negative value for none
     */
    public AccountHealth plus(boolean failed, double ttftMs, Instant now, Duration halfLife) {
        double d = factor(now, halfLife);
        double ew = errorWeight * d + 1;
        double er = clamp01(errorRate + ((failed ? 1 : 0) - errorRate) / ew);
        double tw = ttftWeight * d;
        double tm = this.ttftMs;
        if (ttftMs >= 0) {
            tw += 1;
            tm = Math.max(0, tm + (ttftMs - tm) / tw);
        }
        return new AccountHealth(er, ew, tm, tw, now.isAfter(at) ? now : at);
    }

    private double decayed(double weight, Instant now, Duration halfLife) {
        return weight * factor(now, halfLife);
    }

    private double factor(Instant now, Duration halfLife) {
        long dt = Duration.between(at, now).toMillis();
        return dt <= 0 ? 1 : Math.pow(2, -(double) dt / halfLife.toMillis());
    }

    private static double clamp01(double v) {
        return v < 0 ? 0 : Math.min(1, v);
    }
}
