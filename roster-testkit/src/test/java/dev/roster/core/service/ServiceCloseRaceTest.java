package dev.roster.core.service;

import static dev.roster.core.service.FakeStore.card;
import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.projection.Projection;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * {@code close} waits for background work that is already running: a step is held inside the
 * projection on the thread that runs it (the hold ignores interrupts, as a blocking database or Redis
 * call does), {@code close} is called from another thread, and it must neither return while the step
 * is held nor let the step write after it returned; called from an interrupted thread, it stops
 * waiting and keeps the interrupt. On the fake store, the in-memory projection and the fake clock.
 */
class ServiceCloseRaceTest {

    /**
     * A projection over {@code delegate} that, once {@link #arm armed}, holds the first call of one
     * method made on a thread whose name starts with a prefix until {@link #gate} completes, and records
     * whether that call ended after {@link #closeReturned} was set.
     */
    static final class Holding {
        final CompletableFuture<Void> gate = new CompletableFuture<>();
        final CountDownLatch reached = new CountDownLatch(1);
        final AtomicBoolean closeReturned = new AtomicBoolean();
        final AtomicBoolean heldCallEnded = new AtomicBoolean();
        final AtomicBoolean endedAfterClose = new AtomicBoolean();
        private volatile String method;
        private volatile String threadPrefix;
        private final AtomicBoolean taken = new AtomicBoolean();
        final Projection projection;

        Holding(Projection delegate) {
            projection = (Projection) Proxy.newProxyInstance(
                    Projection.class.getClassLoader(), new Class<?>[] {Projection.class}, (proxy, m, args) -> {
                        boolean hold = m.getName().equals(method)
                                && Thread.currentThread().getName().startsWith(threadPrefix)
                                && taken.compareAndSet(false, true);
                        if (hold) {
                            reached.countDown();
                            // join() waits through interrupts (and keeps the flag), like a blocking I/O call.
                            gate.join();
                        }
                        try {
                            return m.invoke(delegate, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        } finally {
                            if (hold) {
                                endedAfterClose.set(closeReturned.get());
                                heldCallEnded.set(true);
                            }
                        }
                    });
        }

        void arm(String method, String threadPrefix) {
            this.threadPrefix = threadPrefix;
            this.method = method;
        }

        /** Calls close on a new thread and marks when it returned. */
        CompletableFuture<Void> closeAsync(SnapshotService s) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            Thread.ofPlatform().name("test-closer").start(() -> {
                try {
                    s.close();
                    closeReturned.set(true);
                    f.complete(null);
                } catch (Throwable t) {
                    f.completeExceptionally(t);
                }
            });
            return f;
        }
    }

    private static Rig.Sched hourlyPoll() {
        Rig.Sched sched = new Rig.Sched();
        // The loop only runs when woken, so the held step is the one the test starts.
        sched.pollSeconds = 3600;
        return sched;
    }

    /** Waits while the step is held: close must stay blocked, whatever else it has already stopped. */
    private static void assertCloseBlocked(CompletableFuture<Void> closing) {
        Awaitility.await("close stays blocked while the step is held")
                .during(Duration.ofSeconds(1))
                .atMost(Duration.ofSeconds(5))
                .until(() -> !closing.isDone());
    }

    private static void assertNoLeaseLeft(Rig rig) {
        // Released by close: another instance takes the lease at once.
        assertThat(rig.projection.tryAcquireLease(Projection.REPLAYER_LEASE, Duration.ofSeconds(30)))
                .as("the replayer lease is free after close")
                .isPresent();
    }

    /**
     * A service on {@code rig}'s store and clock whose projection is {@code h}'s, started and ready;
     * the rig closes it. {@code inlineRebuilds} false puts full rebuilds on their own thread.
     */
    private static SnapshotService started(Rig rig, Holding h, boolean inlineRebuilds) {
        SnapshotService s = SnapshotService.newBuilder()
                .source(rig.store)
                .projection(h.projection)
                .config(rig.config)
                .clock(rig.clock)
                .inlineRebuilds(inlineRebuilds)
                .build();
        rig.service = s;
        s.start();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(s::ready);
        return s;
    }

    @Test
    void close_waitsForAReplayBatchThatIgnoresTheInterrupt() throws Exception {
        try (Rig rig = Rig.standard().scheduling(hourlyPoll())) {
            rig.store.seed(card(1, "openai", 1));
            Holding h = new Holding(rig.projection);
            SnapshotService s = started(rig, h, true);

            // The replay thread's batch writes the changed card: held there.
            h.arm("putCards", "roster-replay");
            rig.store.upsert(card(2, "openai", 0));
            s.wake();
            assertThat(h.reached.await(10, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Void> closing = h.closeAsync(s);
            try {
                assertCloseBlocked(closing);
            } finally {
                h.gate.complete(null);
            }
            closing.get(30, TimeUnit.SECONDS);
            assertThat(h.heldCallEnded).as("the held batch write ended").isTrue();
            assertThat(h.endedAfterClose)
                    .as("the batch wrote after close returned")
                    .isFalse();
            assertThat(rig.projection.card(2).value())
                    .as("the batch's write went through")
                    .isPresent();
            assertNoLeaseLeft(rig);
        }
    }

    @Test
    void close_waitsForARunningFullRebuildOnTheRebuildThread() throws Exception {
        try (Rig rig = Rig.standard().scheduling(hourlyPoll())) {
            rig.store.seed(card(1, "openai", 1));
            Holding h = new Holding(rig.projection);
            SnapshotService s = started(rig, h, false);

            // The rebuild thread's own write of the cards (after its buckets): held there.
            h.arm("putCards", "roster-rebuild");
            rig.store.seed(card(2, "openai", 0));
            CompletableFuture<Void> rebuilt = s.requestFullRebuild("test");
            assertThat(h.reached.await(10, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Void> closing = h.closeAsync(s);
            try {
                assertCloseBlocked(closing);
            } finally {
                h.gate.complete(null);
            }
            closing.get(30, TimeUnit.SECONDS);
            assertThat(h.heldCallEnded).as("the held rebuild write ended").isTrue();
            assertThat(h.endedAfterClose)
                    .as("the rebuild wrote after close returned")
                    .isFalse();
            assertThat(rebuilt)
                    .as("the rebuild ran to its end before close returned")
                    .isDone();
            assertThat(rig.projection.card(2).value()).isPresent();
            assertNoLeaseLeft(rig);
        }
    }

    @Test
    void close_fromAnInterruptedThreadWhileTheReplayThreadIsBusyKeepsTheInterrupt() throws Exception {
        try (Rig rig = Rig.standard().scheduling(hourlyPoll())) {
            rig.store.seed(card(1, "openai", 1));
            Holding h = new Holding(rig.projection);
            SnapshotService s = started(rig, h, true);

            // The replay thread is held alive, so the join inside close is what sees the interrupt.
            h.arm("putCards", "roster-replay");
            rig.store.upsert(card(2, "openai", 0));
            s.wake();
            assertThat(h.reached.await(10, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Boolean> interruptKept = new CompletableFuture<>();
            try {
                Thread.ofPlatform().name("test-closer").start(() -> {
                    Thread.currentThread().interrupt();
                    s.close();
                    interruptKept.complete(Thread.interrupted());
                });
                // The caller asked to stop waiting: close returns at once, the interrupt still set.
                assertThat(interruptKept.get(30, TimeUnit.SECONDS)).isTrue();
            } finally {
                h.gate.complete(null);
            }
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilTrue(h.heldCallEnded);
        }
    }

    @Test
    void start_publishesTheServingDigestOnItsOwnTimerAndCloseWaitsForARunningPublish() throws Exception {
        try (Rig rig = Rig.standard().scheduling(hourlyPoll())) {
            rig.store.seed(card(1, "openai", 1));
            Holding h = new Holding(rig.projection);
            // Armed before start: the first digest the serving timer writes is held on its thread.
            h.arm("putServing", "roster-serving");
            SnapshotService s = started(rig, h, true);

            // Nothing in the test asks for a digest: the started service writes it on its own timer,
            // after one serving interval.
            assertThat(h.reached.await(SnapshotService.SERVING_INTERVAL.toSeconds() + 20, TimeUnit.SECONDS))
                    .as("the serving timer wrote a digest on its own")
                    .isTrue();
            CompletableFuture<Void> closing = h.closeAsync(s);
            try {
                assertCloseBlocked(closing);
            } finally {
                h.gate.complete(null);
            }
            closing.get(30, TimeUnit.SECONDS);
            assertThat(h.heldCallEnded).as("the held digest write ended").isTrue();
            assertThat(h.endedAfterClose)
                    .as("the digest was written after close returned")
                    .isFalse();
            assertThat(rig.projection.servingDigests())
                    .as("the timer's digest was stored")
                    .hasSize(1);
            assertNoLeaseLeft(rig);
        }
    }

    @Test
    void close_waitsForTheBatchPublishOfTheInterruptedReplayThread() throws Exception {
        try (Rig rig = Rig.standard().scheduling(hourlyPoll())) {
            rig.store.seed(card(1, "openai", 1));
            Holding h = new Holding(rig.projection);
            SnapshotService s = started(rig, h, true);

            // The batch publishes its buckets (computed from the model) in one call on the replay
            // thread; that call is held and ignores the interrupt close sends, so only the wait for
            // the replay thread keeps close from returning under it.
            h.arm("publishAll", "roster-replay");
            rig.store.upsert(card(2, "anthropic", 0));
            s.wake();
            assertThat(h.reached.await(10, TimeUnit.SECONDS))
                    .as("the batch publish is held")
                    .isTrue();
            CompletableFuture<Void> closing = h.closeAsync(s);
            try {
                assertCloseBlocked(closing);
            } finally {
                h.gate.complete(null);
            }
            closing.get(30, TimeUnit.SECONDS);
            assertThat(h.heldCallEnded).as("the held bucket publish ended").isTrue();
            assertThat(h.endedAfterClose)
                    .as("the bucket was published after close returned")
                    .isFalse();
            assertNoLeaseLeft(rig);
        }
    }

    @Test
    void close_fromAnInterruptedThreadWhileABatchPublishRunsKeepsTheInterrupt() throws Exception {
        try (Rig rig = Rig.standard().scheduling(hourlyPoll())) {
            rig.store.seed(card(1, "openai", 1));
            Holding h = new Holding(rig.projection);
            SnapshotService s = started(rig, h, true);

            // The held publish keeps the replay thread alive, so the join inside close is certain to see
            // the caller's interrupt, whatever the other executors have done by then.
            h.arm("publishAll", "roster-replay");
            rig.store.upsert(card(2, "anthropic", 0));
            s.wake();
            assertThat(h.reached.await(10, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Boolean> interruptKept = new CompletableFuture<>();
            try {
                Thread.ofPlatform().name("test-closer").start(() -> {
                    Thread.currentThread().interrupt();
                    s.close();
                    interruptKept.complete(Thread.interrupted());
                });
                assertThat(interruptKept.get(20, TimeUnit.SECONDS))
                        .as("close keeps the caller's interrupt")
                        .isTrue();
            } finally {
                h.gate.complete(null);
            }
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilTrue(h.heldCallEnded);
        }
    }
}
