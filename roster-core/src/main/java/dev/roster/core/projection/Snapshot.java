package dev.roster.core.projection;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import java.util.List;
import java.util.Objects;

/**
 * A bucket's published snapshot: the durable members in the bucket's order, stamped with the
 * generation and version it was published under. It is self-contained, so one read yields a
 * consistent list; an empty {@code cards} list is a valid, cached answer ("the bucket is empty"), not a
 * miss. Time-based blocks are not applied here (see {@link dev.roster.core.TimeFilter}).
 *
 * @param bucket the bucket
 * @param generation the generation id the writer published under (see {@link Generation})
 * @param version the version allocated by {@link Projection#allocateVersion}, {@code >= 1}
 * @param cards the members in order, immutable
 */
public record Snapshot(Bucket bucket, String generation, long version, List<AccountCard> cards) {

    public Snapshot {
        Objects.requireNonNull(bucket, "bucket");
        Generation.requireId(generation);
        if (version < 1) {
            throw new IllegalArgumentException("snapshot version must be >= 1, got " + version);
        }
        cards = List.copyOf(Objects.requireNonNull(cards, "cards"));
    }
}
