package dev.roster;

import dev.roster.core.selection.CooldownKind;
import dev.roster.core.selection.Selection;
import dev.roster.core.selection.SelectionMetrics;

/** Sends every selection event to two sinks: the Roster's own counters and the caller's metrics. */
record TeeMetrics(SelectionMetrics a, SelectionMetrics b) implements SelectionMetrics {

    @Override
    public void acquired(Selection.Layer layer) {
        a.acquired(layer);
        b.acquired(layer);
    }

    @Override
    public void waitPlanned(Selection.Layer layer) {
        a.waitPlanned(layer);
        b.waitPlanned(layer);
    }

    @Override
    public void none(Selection.Reason reason) {
        a.none(reason);
        b.none(reason);
    }

    @Override
    public void stickyHit() {
        a.stickyHit();
        b.stickyHit();
    }

    @Override
    public void stickyMiss() {
        a.stickyMiss();
        b.stickyMiss();
    }

    @Override
    public void stickyDrop() {
        a.stickyDrop();
        b.stickyDrop();
    }

    @Override
    public void saturated() {
        a.saturated();
        b.saturated();
    }

    @Override
    public void cooldownSet(CooldownKind kind) {
        a.cooldownSet(kind);
        b.cooldownSet(kind);
    }

    @Override
    public void errorSet() {
        a.errorSet();
        b.errorSet();
    }
}
