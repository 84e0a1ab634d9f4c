package dev.roster.redis;

import dev.roster.core.projection.Snapshot;
import java.lang.ref.WeakReference;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What {@link RedisProjection#refreshSnapshot} remembers of the last snapshot it decoded for a bucket:
 * the value's identity bytes and, for an index, where each part's cards sit in the snapshot. A later
 * refresh by a caller still holding that very snapshot (checked by object identity, so content is
 * never assumed from a (generation, version) alone) sends the identity, and fetches only the parts
 * whose ids it does not find here. The snapshot is weakly referenced: the caller keeps it alive for as
 * long as it holds it, and a layout whose snapshot is gone matches nothing.
 */
final class HeldLayout {
    private final WeakReference<Snapshot> snapshot;
    private final byte[] identity;
    private final Map<String, int[]> ranges;

    private HeldLayout(Snapshot snapshot, byte[] identity, Map<String, int[]> ranges) {
        this.snapshot = new WeakReference<>(snapshot);
        this.identity = identity;
        this.ranges = ranges;
    }

    /** The layout of an inline snapshot: only its identity. */
    static HeldLayout inline(Snapshot snapshot, byte[] identity) {
        return new HeldLayout(snapshot, identity, Map.of());
    }

    /** The layout of a snapshot assembled from parts, in card order. */
    static HeldLayout parted(Snapshot snapshot, byte[] identity, List<String> partIds, int[] partCounts) {
        Map<String, int[]> ranges = new HashMap<>(partIds.size() * 2);
        int from = 0;
        for (int i = 0; i < partIds.size(); i++) {
            ranges.put(partIds.get(i), new int[] {from, partCounts[i]});
            from += partCounts[i];
        }
        return new HeldLayout(snapshot, identity, ranges);
    }

    /** Whether this is the layout of {@code held} (the same object). */
    @SuppressWarnings("ReferenceEquality") // the same object, on purpose: see above
    boolean describes(@Nullable Snapshot held) {
        return held != null && snapshot.get() == held;
    }

    /** The identity bytes to send. */
    byte[] identity() {
        return identity;
    }

    /** {@code {from, count}} of the held part {@code id} within the held snapshot's cards, or null. */
    int @Nullable [] range(String id) {
        return ranges.get(id);
    }
}
