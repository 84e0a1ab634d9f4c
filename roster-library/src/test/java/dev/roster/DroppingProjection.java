package dev.roster;

import dev.roster.core.projection.Invalidation;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.Subscription;
import dev.roster.testkit.ForwardingProjection;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A real projection whose invalidation messages can be lost on purpose: while {@link #dropping} is
 * set, delivered messages are counted and not passed on. Everything else goes to the real one.
 */
final class DroppingProjection extends ForwardingProjection {
    final AtomicBoolean dropping = new AtomicBoolean();
    final AtomicLong dropped = new AtomicLong();

    DroppingProjection(Projection real) {
        super(real);
    }

    @Override
    public Subscription subscribe(Consumer<Invalidation> listener) {
        return delegate.subscribe(inv -> {
            if (dropping.get()) {
                dropped.incrementAndGet();
                return;
            }
            listener.accept(inv);
        });
    }
}
