package dev.roster.core.service;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.TimeFilter;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The answer of {@link SnapshotService#list}: the bucket's schedulable accounts at the read instant in
 * the order of the bucket query, whether the caller should treat the list as mixed, and the (generation,
 * version) of the snapshot it came from.
 *
 * @param bucket the bucket that answered (after mode resolution and group normalisation)
 * @param accounts the cards, time filter applied; may be empty (an empty bucket is a valid answer)
 * @param useMixed whether the bucket's mode is mixed
 * @param generation the generation id of the snapshot ({@code ""} when served from the database
 *     without a publishable version, e.g. for a retired bucket)
 * @param version the snapshot version ({@code 0} in that case)
 * @param source where the answer came from
 * @param validFrom first instant at which the same snapshot gives these {@code accounts} ({@code null}:
 *     since ever); with {@code validUntil} the time window of {@link TimeFilter#window}
 * @param validUntil first instant at which the same snapshot gives other {@code accounts}, because some
 *     card's time block starts or ends then ({@code null}: not before the snapshot changes)
 */
public record ListResult(
        Bucket bucket,
        List<AccountCard> accounts,
        boolean useMixed,
        String generation,
        long version,
        Source source,
        @Nullable Instant validFrom,
        @Nullable Instant validUntil) {

    public ListResult {
        Objects.requireNonNull(bucket, "bucket");
        accounts = List.copyOf(accounts);
        Objects.requireNonNull(generation, "generation");
        Objects.requireNonNull(source, "source");
        if (validFrom != null && validUntil != null && !validFrom.isBefore(validUntil)) {
            throw new IllegalArgumentException("validFrom " + validFrom + " is not before validUntil " + validUntil);
        }
    }

    /** An answer without a known time window (both bounds open). */
    public ListResult(
            Bucket bucket,
            List<AccountCard> accounts,
            boolean useMixed,
            String generation,
            long version,
            Source source) {
        this(bucket, accounts, useMixed, generation, version, source, null, null);
    }

    /** Where an answer came from. */
    public enum Source {
        /** This instance's near cache (a snapshot of the projection confirmed within {@code max_stale}). */
        NEAR_CACHE,
        /** The projection's active snapshot. */
        PROJECTION,
        /** The guarded database fallback. */
        DATABASE
    }
}
