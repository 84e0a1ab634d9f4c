package dev.roster.core.projection;

import dev.roster.core.Bucket;
import java.util.Objects;

/**
 * A notice that {@code bucket} now has an active snapshot with this (generation, version). Delivery
 * is at most once; near caches must also check versions periodically.
 *
 * @param bucket the bucket
 * @param generation the generation id of the activated snapshot
 * @param version its version
 */
public record Invalidation(Bucket bucket, String generation, long version) {
    public Invalidation {
        Objects.requireNonNull(bucket, "bucket");
        Generation.requireId(generation);
    }
}
