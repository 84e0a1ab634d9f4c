package dev.roster.server.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations in Go's {@code time.ParseDuration} format, which sub2api's config uses ({@code 120s},
 * {@code 1m30s}, {@code 500ms}, {@code 0}). Fractions ({@code 1.5s}) are accepted; negative values are
 * parsed so the validation can name them.
 */
public final class GoDurations {
    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

    private GoDurations() {}

    /**
     * Parses {@code text}.
     *
     * @throws IllegalArgumentException when it is not a Go duration
     */
    public static Duration parse(String text) {
        String s = text.strip();
        boolean negative = s.startsWith("-");
        if (negative || s.startsWith("+")) {
            s = s.substring(1);
        }
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty duration");
        }
        Matcher m = PART.matcher(s);
        int at = 0;
        double nanos = 0;
        while (at < s.length()) {
            if (!m.find(at) || m.start() != at) {
                throw new IllegalArgumentException("not a duration: " + text);
            }
            double n = Double.parseDouble(m.group(1));
            nanos += n
                    * switch (m.group(2)) {
                        case "ns" -> 1L;
                        case "us", "µs" -> 1_000L;
                        case "ms" -> 1_000_000L;
                        case "s" -> 1_000_000_000L;
                        case "m" -> 60_000_000_000L;
                        default -> 3_600_000_000_000L;
                    };
            at = m.end();
        }
        Duration d = Duration.ofNanos(Math.round(nanos));
        return negative ? d.negated() : d;
    }

    /** The Go form of {@code d} ({@code 1m30s}, {@code 500ms}, {@code 0s}). */
    public static String format(Duration d) {
        if (d.isZero()) {
            return "0s";
        }
        StringBuilder sb = new StringBuilder(d.isNegative() ? "-" : "");
        Duration a = d.abs();
        if (a.toHours() > 0) {
            sb.append(a.toHours()).append('h');
        }
        if (a.toMinutesPart() > 0) {
            sb.append(a.toMinutesPart()).append('m');
        }
        if (a.toSecondsPart() > 0) {
            sb.append(a.toSecondsPart()).append('s');
        }
        if (a.toMillisPart() > 0) {
            sb.append(a.toMillisPart()).append("ms");
        }
        return sb.length() == (d.isNegative() ? 1 : 0) ? a.toNanos() + "ns" : sb.toString();
    }
}
