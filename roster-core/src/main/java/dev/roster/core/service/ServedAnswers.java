package dev.roster.core.service;

import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.TimeFilter;
import dev.roster.core.projection.Snapshot;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The near-cache hit path's memo: per bucket, the last {@link ListResult} built from a near-cached
 * snapshot, reused while the snapshot is the same object and the clock is inside the answer's time
 * window. A warm call then finds its bucket without building a key, reads the clock's millis without
 * an {@link Instant}, and returns the result it returned before: it allocates nothing.
 *
 * <p>Contract: {@link #find} answers only buckets that {@link #remember} saw (so a caller that validated
 * the request once never needs to again); {@link #answer} returns a result whose cards are exactly {@link
 * TimeFilter#apply} of the snapshot at the clock's instant. At most {@code capacity} buckets are kept (the
 * near cache's own bound); past it, {@link #remember} returns {@code null} and the caller builds every
 * answer as before.
 *
 * <p>Thread-safe; lookups take no lock.
 */
// Arrays indexed by Mode.ordinal() (sized by Mode.values()) are the lock-free lookup; ordinals are never
// stored or sent anywhere, which is what the check is about.
@SuppressWarnings("EnumOrdinal")
final class ServedAnswers {
    private final InstantSource clock;
    private final int capacity;
    private final ConcurrentHashMap<String, Groups[]> byPlatform = new ConcurrentHashMap<>();
    private final Object insert = new Object();
    private int size;

    ServedAnswers(InstantSource clock, int capacity) {
        this.clock = Objects.requireNonNull(clock, "clock");
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        this.capacity = capacity;
    }

    /** One bucket's place: the bucket (the key every later call reuses) and its last answer. */
    static final class Slot {
        final Bucket bucket;
        final boolean useMixed;
        volatile @Nullable Answer answer;

        Slot(Bucket bucket, boolean useMixed) {
            this.bucket = bucket;
            this.useMixed = useMixed;
        }
    }

    /**
     * A built answer and the millisecond bounds inside which it is certainly valid: {@code fromMillis}
     * is rounded up and {@code untilMillis} down, so a clock read in whole milliseconds never lands on
     * an instant the window does not contain (the sub-millisecond edges take the exact path).
     */
    record Answer(Snapshot snapshot, ListResult result, long fromMillis, long untilMillis) {}

    /** Group ids of one (platform, mode), sorted, with their slots; replaced whole on insert. */
    // Never compared or hashed (the arrays' identity equality does not matter): a private pair.
    @SuppressWarnings("ArrayRecordComponent")
    private record Groups(long[] ids, Slot[] slots) {
        static final Groups EMPTY = new Groups(new long[0], new Slot[0]);

        @Nullable
        Slot get(long group) {
            int i = Arrays.binarySearch(ids, group);
            return i >= 0 ? slots[i] : null;
        }
    }

    /** The remembered slot of (normalised group, platform, mode), or {@code null}. No lock, no allocation. */
    @Nullable
    Slot find(long group, String platform, Mode mode) {
        Groups[] modes = byPlatform.get(platform);
        if (modes == null) {
            return null;
        }
        Groups g = modes[mode.ordinal()];
        return g == null ? null : g.get(group);
    }

    /** The slot for {@code bucket}, created if there is room; {@code null} when full. */
    @Nullable
    Slot remember(Bucket bucket, boolean useMixed) {
        Slot s = find(bucket.groupId(), bucket.platform(), bucket.mode());
        if (s != null) {
            return s;
        }
        synchronized (insert) {
            Groups[] modes = byPlatform.computeIfAbsent(bucket.platform(), p -> new Groups[Mode.values().length]);
            int m = bucket.mode().ordinal();
            Groups g = modes[m] == null ? Groups.EMPTY : modes[m];
            Slot found = g.get(bucket.groupId());
            if (found != null) {
                return found;
            }
            if (size >= capacity) {
                return null;
            }
            int at = -(Arrays.binarySearch(g.ids(), bucket.groupId()) + 1);
            int n = g.ids().length;
            long[] ids = new long[n + 1];
            Slot[] slots = new Slot[n + 1];
            System.arraycopy(g.ids(), 0, ids, 0, at);
            System.arraycopy(g.slots(), 0, slots, 0, at);
            System.arraycopy(g.ids(), at, ids, at + 1, n - at);
            System.arraycopy(g.slots(), at, slots, at + 1, n - at);
            Slot s2 = new Slot(bucket, useMixed);
            ids[at] = bucket.groupId();
            slots[at] = s2;
            // A reader sees the mode array through the map (which orders the put before its get), so a
            // new entry goes into a fresh array put back into the map, never into the published one.
            Groups[] next = modes.clone();
            next[m] = new Groups(ids, slots);
            byPlatform.put(bucket.platform(), next);
            size++;
            return s2;
        }
    }

    /**
     * The answer for {@code snapshot}, near-cached for the slot's bucket: the one built before while it
     * is still valid, else a new one (time filter and window at the clock's instant) that later calls
     * reuse.
     */
    // The memo is for the snapshot instance it was built from: identity is the test, by design.
    @SuppressWarnings("ReferenceEquality")
    ListResult answer(Slot slot, Snapshot snapshot) {
        Answer a = slot.answer;
        if (a != null && a.snapshot == snapshot) {
            long now = clock.millis();
            if (now >= a.fromMillis && now < a.untilMillis) {
                return a.result;
            }
        }
        Instant now = clock.instant();
        TimeFilter.Window w = TimeFilter.window(snapshot.cards(), now);
        ListResult r = new ListResult(
                slot.bucket,
                TimeFilter.apply(snapshot.cards(), now),
                slot.useMixed,
                snapshot.generation(),
                snapshot.version(),
                ListResult.Source.NEAR_CACHE,
                w.from(),
                w.until());
        slot.answer = new Answer(snapshot, r, ceilMillis(w.from()), floorMillis(w.until()));
        return r;
    }

    private static final long MAX_SECONDS = Long.MAX_VALUE / 1000 - 1;

    private static long ceilMillis(@Nullable Instant t) {
        if (t == null || t.getEpochSecond() < -MAX_SECONDS) {
            return Long.MIN_VALUE;
        }
        if (t.getEpochSecond() > MAX_SECONDS) {
            return Long.MAX_VALUE;
        }
        // toEpochMilli is the floor (nanos count forward from the second, also before 1970).
        long ms = t.toEpochMilli();
        return t.getNano() % 1_000_000 == 0 ? ms : ms + 1;
    }

    private static long floorMillis(@Nullable Instant t) {
        if (t == null || t.getEpochSecond() > MAX_SECONDS) {
            return Long.MAX_VALUE;
        }
        if (t.getEpochSecond() < -MAX_SECONDS) {
            return Long.MIN_VALUE;
        }
        return t.toEpochMilli();
    }
}
