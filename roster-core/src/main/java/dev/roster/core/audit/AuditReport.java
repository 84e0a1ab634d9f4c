package dev.roster.core.audit;

import dev.roster.core.Bucket;
import java.util.List;

/**
 * The outcome of one audit.
 *
 * @param checked buckets checked
 * @param drifts buckets whose stable snapshot differs from the query (empty when clean)
 * @param unstable buckets whose snapshot changed between the two reads (not judged)
 * @param missing buckets without an active snapshot that are not retired (the hot path falls back to
 *     the database for them, which answers correctly; not drift)
 * @param staleGeneration buckets whose snapshot carries another generation (the hot path treats them
 *     as missing; not drift)
 */
public record AuditReport(
        int checked, List<Drift> drifts, List<Bucket> unstable, List<Bucket> missing, List<Bucket> staleGeneration) {
    public AuditReport {
        drifts = List.copyOf(drifts);
        unstable = List.copyOf(unstable);
        missing = List.copyOf(missing);
        staleGeneration = List.copyOf(staleGeneration);
    }

    /** Whether no drift was found. */
    public boolean clean() {
        return drifts.isEmpty();
    }

    /** The exit code of {@code roster audit} for this report: 0 clean, 1 drift. */
    public int exitCode() {
        return clean() ? 0 : 1;
    }
}
