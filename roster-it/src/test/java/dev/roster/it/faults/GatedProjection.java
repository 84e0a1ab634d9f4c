package dev.roster.it.faults;

import dev.roster.core.AccountCard;
import dev.roster.core.projection.Lease;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.PublishOutcome;
import dev.roster.core.projection.VersionTicket;
import dev.roster.core.projection.WatermarkOutcome;
import dev.roster.testkit.ForwardingProjection;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The real Redis projection with one interception point, so a test can stop the replayer at an exact
 * place of a batch: before its {@code n}-th bucket publish ({@code publish:n}) or before its {@code
 * n}-th watermark write that follows a publish ({@code watermark:n}), counted from {@link #arm()}. Reaching it calls the
 * {@code atGate} action on the replayer's own thread (the child process writes a file and blocks there
 * until killed or released). Every call is passed to the real projection unchanged; nothing is faked.
 * No production code carries a hook for this.
 */
public final class GatedProjection extends ForwardingProjection {
    private final String point;
    private final int nth;
    private final Runnable atGate;
    private final AtomicInteger count = new AtomicInteger();
    private volatile boolean armed;
    private volatile boolean published;

    /**
     * @param gate {@code publish:n}, {@code watermark:n} or {@code none}
     * @param atGate what to do at the gate (runs on the calling thread, may block)
     */
    public GatedProjection(Projection real, String gate, Runnable atGate) {
        super(real);
        String[] p = gate.split(":", -1);
        this.point = p[0];
        this.nth = p.length > 1 ? Integer.parseInt(p[1]) : 1;
        this.atGate = atGate;
    }

    /** Starts counting calls towards the gate. */
    public void arm() {
        armed = true;
    }

    private void pass(String at) {
        if (!armed) {
            return;
        }
        if ("publish".equals(at)) {
            published = true;
        } else if (!published) {
            // Only a watermark write that follows a batch's publishes counts: idle polls also move it.
            return;
        }
        if (point.equals(at) && count.incrementAndGet() == nth) {
            atGate.run();
        }
    }

    @Override
    public PublishOutcome publish(VersionTicket ticket, String generation, List<AccountCard> cards) {
        pass("publish");
        return delegate.publish(ticket, generation, cards);
    }

    @Override
    public WatermarkOutcome advanceWatermark(Lease replayerLease, long horizon) {
        pass("watermark");
        return delegate.advanceWatermark(replayerLease, horizon);
    }
}
