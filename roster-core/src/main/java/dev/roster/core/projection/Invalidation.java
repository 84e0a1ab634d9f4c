package dev.roster.core.projection;

import dev.roster.core.Bucket;
import java.util.Objects;

/**
 * A notice about one bucket: either it now has an active snapshot with this (generation, version), or
 * it was {@linkplain #retired() retired} (its active snapshot is gone and the bucket answers empty).
 * Delivery is at most once; near caches must also check versions periodically.
 *
 * @param bucket the bucket
 * @param generation the generation id of the activated snapshot; empty for a retire notice (a retire
 *     ends the bucket whatever generation it was published under)
 * @param version its version; 0 for a retire notice
 * @param retired whether this notice says the bucket was retired rather than activated
 */
public record Invalidation(Bucket bucket, String generation, long version, boolean retired) {
    public Invalidation {
        Objects.requireNonNull(bucket, "bucket");
        Objects.requireNonNull(generation, "generation");
        if (retired) {
            if (!generation.isEmpty() || version != 0) {
                throw new IllegalArgumentException("a retire notice carries no generation or version");
            }
        } else {
            Generation.requireId(generation);
        }
    }

    /** The notice that {@code bucket} now has an active snapshot with this (generation, version). */
    public Invalidation(Bucket bucket, String generation, long version) {
        this(bucket, generation, version, false);
    }

    /** The notice that {@code bucket} was retired. */
    public static Invalidation retiredBucket(Bucket bucket) {
        return new Invalidation(bucket, "", 0, true);
    }
}
