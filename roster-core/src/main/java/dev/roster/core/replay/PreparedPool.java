package dev.roster.core.replay;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.pool.PoolModel;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A model a full rebuild loaded in bulk, with every bucket computed from it, handed to the replay thread
 * to adopt between two batches. Until {@link #adopted} completes the rebuild thread owns all of it;
 * after it completed with {@code true} the model belongs to the replay thread and the rebuild only
 * reads {@link #contents}' keys (the buckets to publish) and the shared {@link BucketContents}.
 */
final class PreparedPool {
    final PoolModel model;
    /** Every bucket the rebuild publishes, with the content its model gives (completed by the adoption). */
    final Map<Bucket, List<AccountCard>> contents;

    final RebuildTracking tracking;
    /** Completed by the replay thread: {@code true} when adopted, {@code false} when declined. */
    final CompletableFuture<Boolean> adopted = new CompletableFuture<>();
    /** Set by the rebuild when it failed after the adoption: not everything assumed published was. */
    final AtomicBoolean unpublished = new AtomicBoolean();

    PreparedPool(PoolModel model, Map<Bucket, List<AccountCard>> contents, RebuildTracking tracking) {
        this.model = Objects.requireNonNull(model, "model");
        this.contents = Objects.requireNonNull(contents, "contents");
        this.tracking = Objects.requireNonNull(tracking, "tracking");
    }
}
