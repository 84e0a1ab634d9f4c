package dev.roster.core.service;

import static dev.roster.core.service.FakeStore.card;
import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.GroupLink;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ProjectionUnavailableException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Closing the service interrupts the replay thread; a batch it interrupts is not a failed batch: no
 * failure is counted, no back-off is started and no retry is logged (the batch stays unacknowledged
 * for whoever replays next). On the fake store, with the replay thread's publish held in an
 * interruptible wait.
 */
class ReplayerShutdownTest {

    @Test
    void closingDuringABatchIsNotAFailedBatch() throws Exception {
        Rig.Sched sched = new Rig.Sched();
        sched.pollSeconds = 3600;
        try (Rig rig = Rig.standard().scheduling(sched)) {
            rig.store.seedGroup(7, "openai", "active");
            rig.store.seed(card(1, "openai", 1, new GroupLink(7, 1)));
            // The replay thread's publish waits interruptibly, as a Redis client's does, and fails with
            // the interrupt kept when the service closes meanwhile.
            CountDownLatch reached = new CountDownLatch(1);
            CountDownLatch never = new CountDownLatch(1);
            AtomicBoolean armed = new AtomicBoolean();
            Projection p = (Projection) Proxy.newProxyInstance(
                    Projection.class.getClassLoader(), new Class<?>[] {Projection.class}, (proxy, m, args) -> {
                        if (m.getName().equals("publishAll")
                                && Thread.currentThread().getName().startsWith("roster-replay")
                                && armed.compareAndSet(true, false)) {
                            reached.countDown();
                            try {
                                never.await();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                                throw new ProjectionUnavailableException("interrupted while publishing", e);
                            }
                        }
                        try {
                            return m.invoke(rig.projection, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            SnapshotService s = SnapshotService.newBuilder()
                    .source(rig.store)
                    .projection(p)
                    .config(rig.config)
                    .clock(rig.clock)
                    .inlineRebuilds(true)
                    .build();
            rig.service = s;
            s.start();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(s::ready);

            armed.set(true);
            rig.store.upsert(card(2, "openai", 2, new GroupLink(7, 2)));
            s.wake();
            assertThat(reached.await(10, TimeUnit.SECONDS)).isTrue();
            s.close();
            assertThat(s.replayer().interruptedBatches()).isEqualTo(1);
            assertThat(s.replayer().failedBatches()).as("no failed batch").isZero();
            assertThat(s.replayer().retryAt()).as("no retry scheduled").isNull();
            assertThat(s.rebuilder().failures()).isZero();
        }
    }
}
