package dev.roster.core.selection;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/** {@link SelectionMetrics} as plain counters, readable at any time (tests, status page). Thread-safe. */
// One AtomicLongArray slot per constant, indexed by ordinal() (sized by values()): lock-free counters.
// Ordinals are never stored or sent anywhere, which is what the check is about.
@SuppressWarnings("EnumOrdinal")
public final class SelectionCounters implements SelectionMetrics {
    private final AtomicLongArray acquired = new AtomicLongArray(Selection.Layer.values().length);
    private final AtomicLongArray waits = new AtomicLongArray(Selection.Layer.values().length);
    private final AtomicLongArray nones = new AtomicLongArray(Selection.Reason.values().length);
    private final AtomicLongArray cooldowns = new AtomicLongArray(CooldownKind.values().length);
    private final AtomicLongArray stickySkips = new AtomicLongArray(StickySkip.values().length);
    private final AtomicLong stickyHits = new AtomicLong();
    private final AtomicLong stickyMisses = new AtomicLong();
    private final AtomicLong stickyDrops = new AtomicLong();
    private final AtomicLong saturated = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();

    /** All counters at zero. */
    public SelectionCounters() {}

    @Override
    public void acquired(Selection.Layer layer) {
        acquired.incrementAndGet(layer.ordinal());
    }

    @Override
    public void waitPlanned(Selection.Layer layer) {
        waits.incrementAndGet(layer.ordinal());
    }

    @Override
    public void none(Selection.Reason reason) {
        nones.incrementAndGet(reason.ordinal());
    }

    @Override
    public void stickyHit() {
        stickyHits.incrementAndGet();
    }

    @Override
    public void stickyMiss() {
        stickyMisses.incrementAndGet();
    }

    @Override
    public void stickySkipped(StickySkip cause) {
        stickySkips.incrementAndGet(cause.ordinal());
    }

    @Override
    public void stickyDrop() {
        stickyDrops.incrementAndGet();
    }

    @Override
    public void saturated() {
        saturated.incrementAndGet();
    }

    @Override
    public void cooldownSet(CooldownKind kind) {
        cooldowns.incrementAndGet(kind.ordinal());
    }

    @Override
    public void errorSet() {
        errors.incrementAndGet();
    }

    /** Acquisitions per layer. */
    public Map<Selection.Layer, Long> acquisitions() {
        Map<Selection.Layer, Long> m = new EnumMap<>(Selection.Layer.class);
        for (Selection.Layer l : Selection.Layer.values()) {
            m.put(l, acquired.get(l.ordinal()));
        }
        return m;
    }

    /** Wait plans per layer. */
    public Map<Selection.Layer, Long> waitPlans() {
        Map<Selection.Layer, Long> m = new EnumMap<>(Selection.Layer.class);
        for (Selection.Layer l : Selection.Layer.values()) {
            m.put(l, waits.get(l.ordinal()));
        }
        return m;
    }

    /** Answers without an account, per reason. */
    public Map<Selection.Reason, Long> nones() {
        Map<Selection.Reason, Long> m = new EnumMap<>(Selection.Reason.class);
        for (Selection.Reason r : Selection.Reason.values()) {
            m.put(r, nones.get(r.ordinal()));
        }
        return m;
    }

    /** Cooldowns set per kind. */
    public Map<CooldownKind, Long> cooldowns() {
        Map<CooldownKind, Long> m = new EnumMap<>(CooldownKind.class);
        for (CooldownKind k : CooldownKind.values()) {
            m.put(k, cooldowns.get(k.ordinal()));
        }
        return m;
    }

    /** Sticky hits. */
    public long stickyHits() {
        return stickyHits.get();
    }

    /** Sticky misses. */
    public long stickyMisses() {
        return stickyMisses.get();
    }

    /** Bound accounts passed over with their binding kept, per cause. */
    public Map<StickySkip, Long> stickySkips() {
        Map<StickySkip, Long> m = new EnumMap<>(StickySkip.class);
        for (StickySkip c : StickySkip.values()) {
            m.put(c, stickySkips.get(c.ordinal()));
        }
        return m;
    }

    /** Sticky drops. */
    public long stickyDrops() {
        return stickyDrops.get();
    }

    /** Slot acquisitions that found the account full. */
    public long saturatedCount() {
        return saturated.get();
    }

    /** Accounts put into error status. */
    public long errors() {
        return errors.get();
    }
}
