package dev.roster.core.selection;

import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * The used-% of an account's 5-hour and 7-day quota windows as the upstream reported them (its headers,
 * passed on by the gateway through {@link Selector#report}), each with the time its window resets
 * (decision SP4). A window without a report is {@code null}.
 *
 * @param fiveHour the 5-hour window, or {@code null}
 * @param sevenDay the 7-day window, or {@code null}
 */
public record QuotaUsage(
        @Nullable Window fiveHour, @Nullable Window sevenDay) {

    /** Nothing reported. */
    public static final QuotaUsage NONE = new QuotaUsage(null, null);

    /** The length of the 5-hour window. */
    public static final Duration FIVE_HOURS = Duration.ofHours(5);

    /** The length of the 7-day window. */
    public static final Duration SEVEN_DAYS = Duration.ofDays(7);

    /**
     * How far past its window's length a reset may lie (clock skew, rounding of the headers); a reset
     * further away is refused as absurd.
     */
    public static final Duration RESET_SLACK = Duration.ofHours(1);

    /**
     * Two reports of one window whose resets differ by at most this are the same window (headers carry
     * seconds or "resets in" values, so the same reset is reported a little apart).
     */
    public static final Duration SAME_WINDOW = Duration.ofMinutes(1);

    /**
     * One window's report.
     *
     * @param usedPercent the used share of the window, 0..100
     * @param resetAt when the window resets (its usage returns to 0)
     */
    public record Window(double usedPercent, Instant resetAt) {
        public Window {
            java.util.Objects.requireNonNull(resetAt, "resetAt");
            requirePercent("used percent", usedPercent);
        }
    }

    /**
     * A report of one or both windows, checked against {@code now}: used-% 0..100 and a reset no
     * further than the window's length plus {@link #RESET_SLACK} away.
     *
     * @param used5h {@code quota_5h_used_percent}, or {@code null}
     * @param reset5h {@code quota_5h_reset_at}, required with {@code used5h}
     * @throws IllegalArgumentException naming the field in the API's spelling
     */
    public static QuotaUsage report(
            @Nullable Double used5h,
            @Nullable Instant reset5h,
            @Nullable Double used7d,
            @Nullable Instant reset7d,
            Instant now) {
        return new QuotaUsage(
                window("quota_5h", used5h, reset5h, FIVE_HOURS, now),
                window("quota_7d", used7d, reset7d, SEVEN_DAYS, now));
    }

    /**
     * Checks a report built without {@link #report}: each reset no further than its window's length plus
     * {@link #RESET_SLACK} from {@code now}.
     *
     * @throws IllegalArgumentException naming the field in the API's spelling
     */
    public QuotaUsage requireReasonable(Instant now) {
        if (fiveHour != null) {
            window("quota_5h", fiveHour.usedPercent(), fiveHour.resetAt(), FIVE_HOURS, now);
        }
        if (sevenDay != null) {
            window("quota_7d", sevenDay.usedPercent(), sevenDay.resetAt(), SEVEN_DAYS, now);
        }
        return this;
    }

    private static @Nullable Window window(
            String name, @Nullable Double used, @Nullable Instant reset, Duration length, Instant now) {
        if (used == null && reset == null) {
            return null;
        }
        if (used == null) {
            throw new IllegalArgumentException(name + "_used_percent is required with " + name + "_reset_at");
        }
        if (reset == null) {
            throw new IllegalArgumentException(name + "_reset_at is required with " + name + "_used_percent");
        }
        requirePercent(name + "_used_percent", used);
        if (reset.isAfter(now.plus(length).plus(RESET_SLACK))) {
            throw new IllegalArgumentException(name + "_reset_at must be at most " + length.toHours() + "h (plus "
                    + RESET_SLACK.toHours() + "h) from now, got " + reset);
        }
        return new Window(used, reset);
    }

    private static void requirePercent(String field, double v) {
        if (!(v >= 0 && v <= 100)) {
            throw new IllegalArgumentException(field + " must be a number between 0 and 100, got " + v);
        }
    }

    /** Whether nothing is reported. */
    public boolean isEmpty() {
        return fiveHour == null && sevenDay == null;
    }

    /** The windows that have not reset at {@code now} (a window whose reset is at or before now is gone). */
    public QuotaUsage live(Instant now) {
        Window f = fiveHour != null && fiveHour.resetAt().isAfter(now) ? fiveHour : null;
        Window s = sevenDay != null && sevenDay.resetAt().isAfter(now) ? sevenDay : null;
        return new QuotaUsage(f, s);
    }

    /**
     * Until when the account is paused: the latest reset of the live windows whose used-% is at or past
     * its threshold, or {@code null} when none is.
     */
    public @Nullable Instant pausedUntil(int threshold5h, int threshold7d, Instant now) {
        Instant until = null;
        if (fiveHour != null && fiveHour.resetAt().isAfter(now) && fiveHour.usedPercent() >= threshold5h) {
            until = fiveHour.resetAt();
        }
        if (sevenDay != null
                && sevenDay.resetAt().isAfter(now)
                && sevenDay.usedPercent() >= threshold7d
                && (until == null || sevenDay.resetAt().isAfter(until))) {
            until = sevenDay.resetAt();
        }
        return until;
    }

    /** The earliest reset of the live windows, or {@code null} when none is reported (decision SP6). */
    public @Nullable Instant soonestReset(Instant now) {
        Instant first = null;
        for (Window w : new Window[] {fiveHour, sevenDay}) {
            if (w != null
                    && w.resetAt().isAfter(now)
                    && (first == null || w.resetAt().isBefore(first))) {
                first = w.resetAt();
            }
        }
        return first;
    }

    /**
     * The state after {@code report} reached a store holding this one, per window: a reset at or before
     * {@code now} is ignored (a stale report never pauses); a reset more than {@link #SAME_WINDOW} earlier
     * than the stored live one is an older window's and is ignored; within {@link #SAME_WINDOW} it is the
     * same window, which keeps the higher used-% and the later reset (usage only grows within a window);
     * a later reset is a newer window and replaces the stored one. The stores implement this rule.
     */
    public QuotaUsage merge(QuotaUsage report, Instant now) {
        QuotaUsage held = live(now);
        return new QuotaUsage(merge(held.fiveHour, report.fiveHour, now), merge(held.sevenDay, report.sevenDay, now));
    }

    private static @Nullable Window merge(@Nullable Window held, @Nullable Window in, Instant now) {
        if (in == null || !in.resetAt().isAfter(now)) {
            return held;
        }
        if (held == null) {
            return in;
        }
        if (in.resetAt().isBefore(held.resetAt().minus(SAME_WINDOW))) {
            return held;
        }
        if (in.resetAt().isAfter(held.resetAt().plus(SAME_WINDOW))) {
            return in;
        }
        return new Window(
                Math.max(held.usedPercent(), in.usedPercent()),
                in.resetAt().isAfter(held.resetAt()) ? in.resetAt() : held.resetAt());
    }
}
