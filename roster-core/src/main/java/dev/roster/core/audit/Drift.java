package dev.roster.core.audit;

import dev.roster.core.Bucket;
import java.util.List;
import java.util.Objects;

/**
 * One bucket whose stable snapshot differs from the bucket query.
 *
 * @param bucket the bucket
 * @param kind how it differs (the first difference found, in the order members, order, attributes)
 * @param expected account ids of the bucket query, in its order
 * @param actual account ids of the snapshot, in its order
 * @param detail a sentence naming the difference
 */
public record Drift(Bucket bucket, Kind kind, List<Long> expected, List<Long> actual, String detail) {
    public Drift {
        Objects.requireNonNull(bucket, "bucket");
        Objects.requireNonNull(kind, "kind");
        expected = List.copyOf(expected);
        actual = List.copyOf(actual);
        Objects.requireNonNull(detail, "detail");
    }

    /** How a snapshot differs from the query. */
    public enum Kind {
        /** Different accounts. */
        MEMBERS,
        /** Same accounts, different order. */
        ORDER,
        /** Same accounts in the same order, but a card attribute differs. */
        ATTRIBUTES,
        /** The bucket is retired but has an active snapshot or the query is not empty. */
        RETIRED_NOT_EMPTY
    }
}
