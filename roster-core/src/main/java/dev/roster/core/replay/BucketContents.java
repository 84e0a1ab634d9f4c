package dev.roster.core.replay;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * What the replay thread's model says every bucket holds now, shared with the full rebuild, which
 * publishes from it: the replay thread updates a bucket's content here <em>before</em> it allocates the
 * version it publishes it under, and the rebuild reads it <em>after</em> allocating its own. So whichever
 * publish has the newer version also carries content at least as new, and a rebuild never publishes
 * content older than a replay publish it races with.
 *
 * <p>Also the group state the lifecycle decisions are made from (which groups are active), and the lock
 * those decisions are made under: a retire or reopen is decided from the state here and made while the
 * lock is held, so no decision made from older state can follow one made from newer state. Thread-safe.
 */
final class BucketContents {
    private final ConcurrentHashMap<Bucket, List<AccountCard>> latest = new ConcurrentHashMap<>();
    private volatile Set<Long> activeGroups = Set.of();
    /**
     * Fair, so that the replay thread waiting for it between two chunks of a rebuild's publish gets it
     * next: a monitor lets the rebuild thread, which takes it again right after releasing it, barge ahead
     * for many chunks in a row (a replay batch waited 300 ms behind a rebuild so).
     */
    private final ReentrantLock lifecycle = new ReentrantLock(true);
    /** The last version this process allocated per bucket for content of the model. */
    private final ConcurrentHashMap<Bucket, Long> allocated = new ConcurrentHashMap<>();
    /**
     * Buckets last published from a database read, with the transaction id below which every commit
     * that read could see lies: until the replay cursor passes it, the model may lack some of them.
     */
    private final ConcurrentHashMap<Bucket, Long> databaseUntil = new ConcurrentHashMap<>();
    /**
     * Buckets whose database read a full rebuild has deferred (see {@link #databasePending}): the model
     * may not publish them until some database read of them is recorded.
     */
    private final Set<Bucket> pendingRead = ConcurrentHashMap.newKeySet();

    private volatile long watermark = -1;

    /** The latest content of {@code bucket}, or {@code null} when unknown. */
    @Nullable
    List<AccountCard> latest(Bucket bucket) {
        return latest.get(bucket);
    }

    void put(Bucket bucket, List<AccountCard> content) {
        latest.put(bucket, List.copyOf(content));
    }

    /** Replaces everything (a new model was adopted). */
    void replaceAll(Map<Bucket, List<AccountCard>> contents, Set<Long> active) {
        latest.clear();
        latest.putAll(contents);
        activeGroups = Set.copyOf(active);
    }

    /** Forgets everything (the replay thread no longer holds a model). */
    void clear() {
        latest.clear();
        activeGroups = Set.of();
    }

    void activeGroups(Set<Long> active) {
        activeGroups = Set.copyOf(active);
    }

    boolean active(long groupId) {
        return activeGroups.contains(groupId);
    }

    /** The replay cursor's watermark: every event of a transaction below it is in the model. */
    void watermark(long w) {
        watermark = w;
    }

    /**
     * Records {@code version}, just allocated by this process for {@code bucket}, and says whether the
     * model's content may be published under it. Not when this process allocated none before for the
     * bucket, or another publisher (the hot path's database fallback, an admin rebuild of the bucket,
     * another instance) allocated a version since this process's previous one, or the store counts
     * again from 1 (it lost its data): that publisher reads the database after allocating, so its content may
     * hold commits whose events the model has not applied yet, and a newer version with the model's
     * older content would take them back from readers. Nor while the bucket's last published content came
     * from such a read the cursor has not passed yet. The caller then reads the bucket from the database
     * (after this allocation) and reports it with {@link #databaseRead}. Call under {@link #lifecycleLock()},
     * right after allocating.
     */
    boolean modelMayPublish(Bucket bucket, long version) {
        Long before = allocated.put(bucket, version);
        // Unknown (this process never allocated one: a publisher elsewhere may have shown a database read
        // newer than this process's load) and not the next one (another publisher in between, or a store
        // that lost its counters and counts again from 1) are treated alike: the database decides.
        boolean interleaved = before == null || version != before + 1;
        Long until = databaseUntil.get(bucket);
        if (until != null && Long.compareUnsigned(watermark, until) >= 0) {
            databaseUntil.remove(bucket, until);
            until = null;
        }
        return !interleaved && until == null && !pendingRead.contains(bucket);
    }

    /**
     * {@code bucket} needs a database read (its last {@link #modelMayPublish} said no) that the caller
     * makes later, outside the lifecycle lock: until a read of it is recorded ({@link #databaseRead}, by
     * whichever publisher reads first), the model may not publish it either. Call under
     * {@link #lifecycleLock()}.
     */
    void databasePending(Bucket bucket) {
        pendingRead.add(bucket);
    }

    /** Whether {@code version} is the last version this process allocated for {@code bucket}. */
    boolean lastAllocated(Bucket bucket, long version) {
        Long last = allocated.get(bucket);
        return last != null && last == version;
    }

    /**
     * {@code bucket} is published from a database read whose visible commits all have transaction ids
     * below {@code coveredBelow}; its content is the shared content until the model catches up.
     */
    void databaseRead(Bucket bucket, long coveredBelow, List<AccountCard> content) {
        databaseUntil.merge(bucket, coveredBelow, (a, b) -> Long.compareUnsigned(a, b) >= 0 ? a : b);
        pendingRead.remove(bucket);
        put(bucket, content);
    }

    /**
     * {@code bucket} was published under {@code version}, allocated by this process before a database
     * read whose visible commits lie below {@code coveredBelow} (a full rebuild without the model):
     * the next consecutive version may publish the model's content once the cursor passed that read.
     * Call under {@link #lifecycleLock()}.
     */
    void databasePublished(Bucket bucket, long version, long coveredBelow, List<AccountCard> content) {
        allocated.merge(bucket, version, Math::max);
        databaseRead(bucket, coveredBelow, content);
    }

    /** The lock retire and reopen decisions are made under (fair: waiters are served in order). */
    ReentrantLock lifecycleLock() {
        return lifecycle;
    }
}
