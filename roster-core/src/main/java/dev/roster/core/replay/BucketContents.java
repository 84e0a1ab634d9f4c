package dev.roster.core.replay;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

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
    private final Object lifecycle = new Object();

    /** The latest content of {@code bucket}, or {@code null} when unknown. */
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

    /** The lock retire and reopen decisions are made under. */
    Object lifecycleLock() {
        return lifecycle;
    }
}
