package dev.roster.core.audit;

import dev.roster.core.Bucket;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ServingDigest;
import dev.roster.core.projection.Snapshot;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The instance-level check beside {@link Auditor}: the audit compares the projection with the
 * database, this compares what each instance's near cache serves (its published {@link
 * ServingDigest}) with the projection. Together they cover the path to a reader: an instance whose
 * (generation, version, checksum) equals the projection's, for a projection the audit found clean,
 * serves the database's answer.
 *
 * <p>The projection's snapshot of each bucket is read once per audit and its checksum computed the
 * way the instances compute theirs. Digests are up to one publish interval old, so an instance one
 * version behind is reported as {@code behind}, not as stale; an equal version with another checksum,
 * or a version above the projection's active one in its own generation, cannot come from lag: only
 * from a store that lost writes and handed a version out again (the staleness the audit cannot see).
 */
public final class ServingAuditor {
    private final Projection projection;

    public ServingAuditor(Projection projection) {
        this.projection = Objects.requireNonNull(projection, "projection");
    }

    /**
     * Reads every live digest and compares it with the projection.
     *
     * @throws RuntimeException when the projection cannot be read
     */
    public ServingReport audit() {
        List<ServingDigest> digests = new ArrayList<>(projection.servingDigests());
        digests.sort((a, b) -> a.instanceId().compareTo(b.instanceId()));
        Map<Bucket, Optional<Stored>> stored = new HashMap<>();
        List<ServingReport.Finding> stale = new ArrayList<>();
        List<ServingReport.Finding> behind = new ArrayList<>();
        int checked = 0;
        for (ServingDigest d : digests) {
            for (Map.Entry<Bucket, ServingDigest.Served> e : new TreeMap<>(d.buckets()).entrySet()) {
                checked++;
                Bucket b = e.getKey();
                ServingDigest.Served served = e.getValue();
                Optional<Stored> s = stored.computeIfAbsent(b, this::read);
                String servedText = text(served.generation(), served.version(), served.checksum());
                if (s.isEmpty()) {
                    behind.add(finding(d, b, ServingReport.Kind.NOT_IN_STORE, servedText, "none"));
                    continue;
                }
                Stored st = s.get();
                String storedText = text(st.generation(), st.version(), st.checksum());
                if (!st.generation().equals(served.generation())) {
                    behind.add(finding(d, b, ServingReport.Kind.OLDER, servedText, storedText));
                } else if (served.version() == st.version()) {
                    if (!served.checksum().equals(st.checksum())) {
                        stale.add(finding(d, b, ServingReport.Kind.CONTENT_DIFFERS, servedText, storedText));
                    }
                } else if (served.version() > st.version()) {
                    stale.add(finding(d, b, ServingReport.Kind.AHEAD_OF_STORE, servedText, storedText));
                } else {
                    behind.add(finding(d, b, ServingReport.Kind.OLDER, servedText, storedText));
                }
            }
        }
        return new ServingReport(digests.size(), checked, stale, behind);
    }

    private record Stored(String generation, long version, String checksum) {}

    private Optional<Stored> read(Bucket b) {
        Lookup<Snapshot> l = projection.readSnapshot(b);
        if (l instanceof Lookup.Hit<Snapshot> hit) {
            Snapshot s = hit.found();
            return Optional.of(new Stored(s.generation(), s.version(), ServingDigest.checksum(s.cards())));
        }
        return Optional.empty();
    }

    private static ServingReport.Finding finding(
            ServingDigest d, Bucket b, ServingReport.Kind kind, String served, String stored) {
        return new ServingReport.Finding(d.instanceId(), d.reportedAt(), b, kind, served, stored);
    }

    private static String text(String generation, long version, String checksum) {
        return generation + " v" + version + " #" + checksum;
    }
}
