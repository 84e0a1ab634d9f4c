package dev.roster.core.selection;

import static dev.roster.core.selection.TestCards.card;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.roster.core.config.SelectionConfig;
import dev.roster.core.projection.ProjectionUnavailableException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * The selector's handling of an acquisition that fails in the store, on the in-memory store with faults
 * scripted per call: a call that took the slot and then failed (its reply lost), a call that failed before
 * the store ran it (its request lost), a release that fails too, and an error that is not a transport
 * failure. The Redis variant, with the reply really held back on the network, is in the Redis module.
 */
class SelectorLostReplyTest {
    private final SelectionRig rig = new SelectionRig();
    private final SelectRequest req = SelectRequest.of(1L, "anthropic");

    private enum Fault {
        /** The store takes the slot, then the caller sees a timeout. */
        REPLY_LOST,
        /** The caller sees a timeout; the store never saw the call. */
        REQUEST_LOST,
        /** A script or type error: not an outage. */
        BROKEN,
    }

    /** The rig's store with the next acquisitions failing as scripted; records every token tried. */
    private final class Faulty implements SelectionStore {
        final Deque<Fault> faults = new ArrayDeque<>();
        final List<String> acquireTokens = new ArrayList<>();
        final List<String> releaseTokens = new ArrayList<>();
        boolean releaseFails;

        @Override
        public SlotAttempt tryAcquire(long accountId, String model, int concurrency, Duration ttl, String token) {
            acquireTokens.add(token);
            Fault f = faults.poll();
            if (f == null) {
                return rig.store.tryAcquire(accountId, model, concurrency, ttl, token);
            }
            switch (f) {
                case REPLY_LOST -> {
                    SlotAttempt ran = rig.store.tryAcquire(accountId, model, concurrency, ttl, token);
                    assertThat(ran).isInstanceOf(SlotAttempt.Granted.class);
                    throw new ProjectionUnavailableException("acquire reply lost", null);
                }
                case REQUEST_LOST -> throw new ProjectionUnavailableException("acquire request lost", null);
                default -> throw new IllegalStateException("acquire script error");
            }
        }

        @Override
        public boolean release(long accountId, String token) {
            releaseTokens.add(token);
            if (releaseFails) {
                throw new ProjectionUnavailableException("release lost", null);
            }
            return rig.store.release(accountId, token);
        }

        @Override
        public boolean renew(SlotLease lease, Duration ttl) {
            return rig.store.renew(lease, ttl);
        }

        @Override
        public Optional<WaitTicket> tryEnqueue(long accountId, int maxWaiting, Duration ttl) {
            return rig.store.tryEnqueue(accountId, maxWaiting, ttl);
        }

        @Override
        public boolean leave(long accountId, String token) {
            return rig.store.leave(accountId, token);
        }

        @Override
        public Map<Long, AccountLoad> loads(Collection<Long> accountIds) {
            return rig.store.loads(accountIds);
        }

        @Override
        public Instant extendCooldown(long accountId, CooldownKind kind, Instant until) {
            return rig.store.extendCooldown(accountId, kind, until);
        }

        @Override
        public Reading read(Collection<Long> accountIds, String bindingKey, String model) {
            return rig.store.read(accountIds, bindingKey, model);
        }

        @Override
        public Instant extendModelCooldown(long accountId, String model, Instant until) {
            return rig.store.extendModelCooldown(accountId, model, until);
        }

        @Override
        public int recordFailure(long accountId, String streak, Duration window) {
            return rig.store.recordFailure(accountId, streak, window);
        }

        @Override
        public void clearFailures(long accountId, Collection<String> streaks) {
            rig.store.clearFailures(accountId, streaks);
        }

        @Override
        public OptionalLong sticky(String bindingKey) {
            return rig.store.sticky(bindingKey);
        }

        @Override
        public void bindSticky(String bindingKey, long groupId, long accountId, Duration ttl) {
            rig.store.bindSticky(bindingKey, groupId, accountId, ttl);
        }

        @Override
        public AccountHealth recordHealth(long accountId, boolean failed, @Nullable Duration ttft, Duration halfLife) {
            return rig.store.recordHealth(accountId, failed, ttft, halfLife);
        }

        @Override
        public int dropStickyBindings(long accountId) {
            return rig.store.dropStickyBindings(accountId);
        }

        @Override
        public int dropStickyBindings(long accountId, long groupId) {
            return rig.store.dropStickyBindings(accountId, groupId);
        }

        @Override
        public boolean dropSticky(String bindingKey, long accountId) {
            return rig.store.dropSticky(bindingKey, accountId);
        }

        @Override
        public int sweep(Collection<Long> accountIds) {
            return rig.store.sweep(accountIds);
        }

        @Override
        public void close() {}
    }

    private final Faulty store = new Faulty();

    private Selector selector() {
        return Selector.newBuilder()
                .source(rig.candidates)
                .store(store)
                .usage(rig.usage)
                .clock(rig.clock)
                .build();
    }

    private int inFlight(long id) {
        return rig.store.loads(List.of(id)).get(id).inFlight();
    }

    @Test
    void replyLost_theRepeatGrantsTheSlotTheLostCallTook_once() {
        rig.candidates.put(List.of(card(1, 0, 1)));
        store.faults.add(Fault.REPLY_LOST);

        Selection s = selector().select(req);

        assertThat(s).isInstanceOf(Selection.Acquired.class);
        String token = ((Selection.Acquired) s).lease().token();
        assertThat(store.acquireTokens).containsExactly(token, token);
        assertThat(store.releaseTokens).isEmpty();
        assertThat(inFlight(1)).isEqualTo(1);
    }

    @Test
    void requestLost_theRepeatTakesTheSlotAfresh() {
        rig.candidates.put(List.of(card(1, 0, 1)));
        store.faults.add(Fault.REQUEST_LOST);

        Selection s = selector().select(req);

        assertThat(s).isInstanceOf(Selection.Acquired.class);
        assertThat(store.acquireTokens)
                .hasSize(2)
                .containsOnly(((Selection.Acquired) s).lease().token());
        assertThat(inFlight(1)).isEqualTo(1);
    }

    @Test
    void bothLost_theTokenIsReleased_andTheTypedErrorCarriesTheFirst() {
        rig.candidates.put(List.of(card(1, 0, 1)));
        store.faults.add(Fault.REPLY_LOST);
        store.faults.add(Fault.REQUEST_LOST);

        Throwable e = catchThrowable(() -> selector().select(req));

        assertThat(e).isInstanceOf(ProjectionUnavailableException.class).hasMessage("acquire request lost");
        assertThat(e.getSuppressed()).extracting(Throwable::getMessage).containsExactly("acquire reply lost");
        assertThat(store.releaseTokens).containsExactly(store.acquireTokens.get(0));
        assertThat(inFlight(1)).isZero();
        // The concurrency-1 account is free at once.
        assertThat(selector().select(req)).isInstanceOf(Selection.Acquired.class);
    }

    @Test
    void bothLostAndTheReleaseToo_theErrorCarriesEveryFailure_theSlotWaitsForItsLease() {
        rig.candidates.put(List.of(card(1, 0, 1)));
        store.faults.add(Fault.REPLY_LOST);
        store.faults.add(Fault.REPLY_LOST);
        store.releaseFails = true;

        Throwable e = catchThrowable(() -> selector().select(req));

        assertThat(e).isInstanceOf(ProjectionUnavailableException.class).hasMessage("acquire reply lost");
        assertThat(e.getSuppressed())
                .extracting(Throwable::getMessage)
                .containsExactly("acquire reply lost", "release lost");
        // Only one slot for the two calls; it is left to its lease, the one thing still bounding it.
        assertThat(inFlight(1)).isEqualTo(1);
        rig.clock.advance(SelectionConfig.DEFAULTS.slotLeaseTtl());
        assertThat(inFlight(1)).isZero();
    }

    @Test
    void anErrorThatIsNotAnOutage_isNeitherRepeatedNorReleased() {
        rig.candidates.put(List.of(card(1, 0, 1)));
        store.faults.add(Fault.BROKEN);

        Throwable e = catchThrowable(() -> selector().select(req));

        assertThat(e).isInstanceOf(IllegalStateException.class).hasMessage("acquire script error");
        assertThat(store.acquireTokens).hasSize(1);
        assertThat(store.releaseTokens).isEmpty();
    }
}
