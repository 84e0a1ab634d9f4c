package dev.roster.core.audit;

import dev.roster.core.Bucket;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The serving audit's result: what each live instance's near cache serves, against the projection.
 *
 * @param instances how many instances had a live serving digest
 * @param checked how many (instance, bucket) pairs were compared
 * @param stale pairs where the instance serves content the projection does not hold under the same
 *     (generation, version), or a version the projection never reached: it will not heal by itself
 * @param behind pairs where the instance serves an older (generation, version) than the projection
 *     holds, or a bucket the projection no longer has: normal for a digest up to one publish interval
 *     old, reported so an operator sees a lagging instance, not counted as unclean
 */
public record ServingReport(int instances, int checked, List<Finding> stale, List<Finding> behind) {
    public ServingReport {
        stale = List.copyOf(stale);
        behind = List.copyOf(behind);
    }

    /** Whether no instance serves stale content. */
    public boolean clean() {
        return stale.isEmpty();
    }

    /** Kinds of finding. */
    public enum Kind {
        /** Same (generation, version) as the projection, other content: the store handed the version out again. */
        CONTENT_DIFFERS,
        /** A version of the projection's generation above its active one: the store lost it. */
        AHEAD_OF_STORE,
        /** An older version or generation than the projection's active one. */
        OLDER,
        /** The projection has no snapshot for the bucket (retired, or not yet rebuilt). */
        NOT_IN_STORE
    }

    /**
     * One (instance, bucket) that does not serve what the projection holds.
     *
     * @param instanceId the instance's serving id
     * @param reportedAt when the instance built its digest
     * @param bucket the bucket
     * @param kind what differs
     * @param served (generation, version, checksum) the instance serves, as text
     * @param stored what the projection holds, as text ({@code "none"} when nothing)
     */
    public record Finding(
            String instanceId, Instant reportedAt, Bucket bucket, Kind kind, String served, String stored) {
        public Finding {
            Objects.requireNonNull(instanceId, "instanceId");
            Objects.requireNonNull(bucket, "bucket");
            Objects.requireNonNull(kind, "kind");
        }
    }
}
