package dev.roster.redis;

import dev.roster.core.projection.Projection;
import dev.roster.testkit.TestClock;
import dev.roster.testkit.contract.ProjectionContract;
import dev.roster.testkit.fake.InMemoryProjection;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/** The projection contract on {@link InMemoryProjection}, on a fake clock. */
class InMemoryProjectionContractTest extends ProjectionContract {
    private final TestClock clock = TestClock.at(Instant.parse("2026-01-01T00:00:00Z"));
    private final Map<String, InMemoryProjection> stores = new HashMap<>();

    @Override
    protected Projection open(String namespace) {
        // Clients of one namespace share the store, as clients of one Redis share its data.
        return stores.computeIfAbsent(namespace, n -> new InMemoryProjection(clock, GRACE));
    }

    @Override
    protected void elapse(Duration d) {
        clock.advance(d);
    }
}
