package dev.roster.it.faults;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The figures of one fault scenario, written by the test (never asserted on: timings depend on the
 * machine) to {@code roster-it/target/reliability/<scenario>.md}; {@link #write()} also regenerates
 * {@code table.md} there from every row present, which is what {@code docs/reliability.md} copies.
 *
 * @param scenario test class and method
 * @param load the load held during the fault
 * @param faults what was injected and for how long
 * @param readsServed reads answered (any source)
 * @param readsFailed reads that threw
 * @param fallbackQps database fallback queries per second over the fault window
 * @param convergeMs time from the end of the fault to audit-clean and nothing pending
 * @param committed outbox events committed during the scenario
 * @param deadLettered events dead-lettered (each with a reason)
 * @param lost events whose change is not in the projection after convergence (must be 0)
 */
public record Reliability(
        String scenario,
        String load,
        String faults,
        long readsServed,
        long readsFailed,
        double fallbackQps,
        long convergeMs,
        long committed,
        long deadLettered,
        long lost) {

    private static final String HEADER = "| scenario | load held | faults injected | reads served / failed "
            + "| fallback q/s | converge ms | events committed / dead-lettered / lost |\n"
            + "|---|---|---|---|---|---|---|\n";

    /** The directory rows are written to. */
    public static Path dir() {
        return Path.of(System.getProperty("roster.reliability.dir", "target/reliability"));
    }

    /** The row as a Markdown table line. */
    public String line() {
        return String.format(
                Locale.ROOT,
                "| `%s` | %s | %s | %d / %d | %.1f | %d | %d / %d / %d |",
                scenario,
                load,
                faults,
                readsServed,
                readsFailed,
                fallbackQps,
                convergeMs,
                committed,
                deadLettered,
                lost);
    }

    /** Writes this row and regenerates the table of every row written so far; prints the row. */
    public void write() {
        System.out.println("reliability " + line());
        try {
            Path d = dir();
            Files.createDirectories(d);
            Files.writeString(d.resolve(scenario.replaceAll("[^A-Za-z0-9_.-]", "_") + ".row"), line() + "\n");
            List<String> rows = new ArrayList<>();
            try (Stream<Path> files = Files.list(d)) {
                for (Path p : files.filter(f -> f.toString().endsWith(".row"))
                        .sorted()
                        .toList()) {
                    rows.add(Files.readString(p).strip());
                }
            }
            Files.writeString(
                    d.resolve("table.md"),
                    "Fault suite, size " + FaultSize.current().name() + "\n\n" + HEADER + String.join("\n", rows)
                            + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
