package dev.roster.core.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roster.core.projection.Lease;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ProjectionUnavailableException;
import dev.roster.testkit.fake.InMemoryProjection;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The replayer lease keeper on an in-memory projection and a hand-moved clock (TTL 10 s, renewal
 * every 3 s): whether it renews is seen from outside, by whether a second keeper can take the lease
 * once the original TTL is over.
 */
class LeaseKeeperTest {
    private static final Instant T0 = Instant.parse("2026-03-01T12:00:00Z");
    private static final Duration TTL = Duration.ofSeconds(10);
    private static final Duration RENEW = Duration.ofSeconds(3);

    private final AtomicReference<Instant> now = new AtomicReference<>(T0);
    private final InMemoryProjection store = new InMemoryProjection(now::get, Duration.ofSeconds(60));
    private final AtomicBoolean down = new AtomicBoolean();
    /** The store, or an unreachable one while {@link #down} is set. */
    private final Projection projection = (Projection) Proxy.newProxyInstance(
            Projection.class.getClassLoader(), new Class<?>[] {Projection.class}, (p, m, args) -> {
                if (down.get()) {
                    throw new ProjectionUnavailableException("store down", null);
                }
                try {
                    return m.invoke(store, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            });

    private void at(long millis) {
        now.set(T0.plusMillis(millis));
    }

    private LeaseKeeper keeper() {
        return new LeaseKeeper(projection, now::get, TTL, RENEW);
    }

    /** Whether another instance could take the lease now (it keeps it if so). */
    private boolean otherTakes() {
        return store.tryAcquireLease(Projection.REPLAYER_LEASE, TTL).isPresent();
    }

    @Test
    void acquiresOnceAndRenewsExactlyWhenTheRenewalPeriodHasPassed() {
        LeaseKeeper k = keeper();
        assertThat(k.held()).isEmpty();
        Optional<Lease> first = k.current();
        assertThat(first).isPresent();
        assertThat(k.held()).isEqualTo(first);
        at(2_999);
        assertThat(k.current()).isEqualTo(first);
        at(3_000); // renewal due: the TTL now ends at 13 s
        assertThat(k.current()).isEqualTo(first);
        at(12_000);
        assertThat(otherTakes()).as("renewed at 3 s, so held until 13 s").isFalse();
        assertThat(k.acquisitions()).isEqualTo(1);
    }

    @Test
    void withoutADueRenewalTheLeaseRunsOut() {
        LeaseKeeper k = keeper();
        assertThat(k.current()).isPresent();
        at(2_999);
        assertThat(k.current()).isPresent();
        at(10_000);
        assertThat(otherTakes()).as("never renewed: the TTL ended at 10 s").isTrue();
    }

    @Test
    void aLeaseTakenOverIsNoticedAtTheNextRenewalAndAcquiredAgainWhenFree() {
        LeaseKeeper k = keeper();
        Lease mine = k.current().orElseThrow();
        at(11_000);
        assertThat(otherTakes()).isTrue();
        assertThat(k.current()).as("the other instance holds it").isEmpty();
        assertThat(k.held()).isEmpty();
        at(22_000); // the other one's TTL is over
        Lease again = k.current().orElseThrow();
        assertThat(again).isNotEqualTo(mine);
        assertThat(k.acquisitions()).isEqualTo(2);
    }

    @Test
    void anUnreachableStoreGivesNoLeaseButKeepsItForWhenTheStoreReturns() {
        LeaseKeeper k = keeper();
        Lease mine = k.current().orElseThrow();
        at(3_000);
        down.set(true);
        assertThat(k.current()).isEmpty();
        assertThat(k.held()).as("kept for a renewal once the store is back").contains(mine);
        down.set(false);
        at(4_000);
        assertThat(k.current()).contains(mine);
        assertThat(k.acquisitions()).isEqualTo(1);
        at(13_000);
        assertThat(otherTakes()).as("renewed at 4 s").isFalse();
    }

    @Test
    void confirmRenewsNowAndForgetsALostLease() {
        LeaseKeeper k = keeper();
        assertThat(k.confirm()).as("nothing held").isFalse();
        assertThat(k.current()).isPresent();
        at(1_000);
        assertThat(k.confirm()).isTrue();
        at(10_500);
        assertThat(otherTakes()).as("confirmed at 1 s: held until 11 s").isFalse();
        at(11_000);
        LeaseKeeper fresh = keeper();
        assertThat(fresh.current()).isPresent();
        at(12_000);
        assertThat(k.confirm()).as("taken over by the other keeper").isFalse();
        assertThat(k.held()).isEmpty();
        down.set(true);
        assertThatThrownBy(fresh::confirm).isInstanceOf(ProjectionUnavailableException.class);
        assertThat(fresh.held()).isPresent();
    }

    @Test
    void confirmRestartsTheRenewalSchedule() {
        LeaseKeeper k = keeper();
        assertThat(k.current()).isPresent();
        at(2_000);
        assertThat(k.confirm()).isTrue(); // held until 12 s, next renewal due at 5 s
        at(4_000);
        k.current(); // not due: nothing is written
        at(12_000);
        assertThat(otherTakes()).as("no renewal at 4 s").isTrue();
    }

    @Test
    void lostAndReleaseForgetTheLeaseAndReleaseFreesItAtOnce() {
        LeaseKeeper k = keeper();
        assertThat(k.current()).isPresent();
        k.lost();
        assertThat(k.held()).isEmpty();
        assertThat(otherTakes())
                .as("lost() only forgets; the store still has it")
                .isFalse();

        at(20_000);
        LeaseKeeper j = keeper();
        assertThat(j.current()).isPresent();
        j.release();
        assertThat(j.held()).isEmpty();
        assertThat(otherTakes()).as("released: free at once").isTrue();

        at(40_000);
        LeaseKeeper h = keeper();
        assertThat(h.current()).isPresent();
        down.set(true);
        h.release(); // a failing release is logged; the lease expires by itself
        assertThat(h.held()).isEmpty();
        h.release(); // nothing held: nothing to do
        assertThat(h.held()).isEmpty();
    }

    @Test
    void aReleasedKeeperNeverTakesTheLeaseAgain() {
        LeaseKeeper k = keeper();
        assertThat(k.current()).isPresent();
        k.release();
        // A renewal that was already under way on the timer when the instance closed runs now: the
        // lease is free, and a keeper that still acquired would hold it for a closed instance.
        assertThat(k.current()).as("after release").isEmpty();
        at(60_000);
        assertThat(k.current()).as("much later, lease still free").isEmpty();
        assertThat(k.acquisitions()).isEqualTo(1);
        assertThat(otherTakes()).as("another instance takes it").isTrue();
    }
}
