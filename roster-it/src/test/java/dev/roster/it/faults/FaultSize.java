package dev.roster.it.faults;

import java.time.Duration;
import java.util.Locale;

/**
 * How big the fault suite runs, from the system property {@code roster.faults.size}: {@code small}
 * (CI: a few seconds of load around each fault) or {@code long} (by hand: tens of seconds, more
 * accounts, more readers). Only load and hold durations change; every assertion is the same.
 *
 * @param name the size's name
 * @param accounts accounts the writer starts with
 * @param hold how long a fault is held under load
 * @param warmup how long load runs before the fault is injected
 * @param writeRate writer operations per second
 * @param readers reader threads per instance
 * @param converge upper bound for convergence after the fault ends (a bound, not a measurement)
 */
public record FaultSize(
        String name, int accounts, Duration hold, Duration warmup, int writeRate, int readers, Duration converge) {

    /** CI: the whole suite in a few minutes on two cores. */
    public static final FaultSize SMALL =
            new FaultSize("small", 30, Duration.ofSeconds(3), Duration.ofSeconds(1), 40, 2, Duration.ofSeconds(90));

    /** By hand: long holds, more accounts and readers. */
    public static final FaultSize LONG =
            new FaultSize("long", 200, Duration.ofSeconds(20), Duration.ofSeconds(5), 100, 4, Duration.ofSeconds(180));

    /** The size selected by {@code -Droster.faults.size} (default small). */
    public static FaultSize current() {
        String v = System.getProperty("roster.faults.size", "small").trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "long" -> LONG;
            case "small", "" -> SMALL;
            default -> throw new IllegalArgumentException("roster.faults.size must be small or long, got '" + v + "'");
        };
    }
}
