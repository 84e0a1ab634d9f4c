package dev.roster.it.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.Roster;
import dev.roster.core.Bucket;
import dev.roster.redis.RedisKeys;
import dev.roster.testkit.RedisHarness;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Three instances racing: the lease holder replays while full rebuilds are requested on random
 * instances (only the holder may move the watermark; the others republish), single buckets are
 * rebuilt, active snapshots are deleted behind everyone's back (forcing database fallbacks and their
 * publishes), and the writer retires and reopens groups (inactive/active) among its other changes.
 */
class RaceFaultTest extends FaultTestBase {

    @Test
    void threeInstancesReplayRebuildFallBackAndRetireReopen() {
        Load load = startLoad(3, true);
        List<Roster> instances = List.copyOf(env.live);
        RedisKeys keys = new RedisKeys(env.prefix);
        AtomicLong rebuilds = new AtomicLong();
        AtomicLong deletes = new AtomicLong();
        AtomicLong chaosErrors = new AtomicLong();
        env.faultStarts();
        Thread chaos = Thread.ofPlatform().name("fault-chaos").start(() -> {
            SplittableRandom r = new SplittableRandom(3);
            long end = System.nanoTime() + hold().multipliedBy(2).toNanos();
            while (System.nanoTime() < end) {
                Roster on = instances.get(r.nextInt(instances.size()));
                List<Bucket> buckets = new ArrayList<>(on.admin().buckets());
                try {
                    switch (r.nextInt(3)) {
                        case 0 -> on.admin().rebuildAll();
                        case 1 -> {
                            if (!buckets.isEmpty()) {
                                on.admin().rebuildBucket(buckets.get(r.nextInt(buckets.size())));
                            }
                        }
                        default -> {
                            if (!buckets.isEmpty()) {
                                Bucket b = buckets.get(r.nextInt(buckets.size()));
                                RedisHarness.shared().command("DEL", keys.snapshot(b));
                                deletes.incrementAndGet();
                            }
                        }
                    }
                    rebuilds.incrementAndGet();
                } catch (RuntimeException e) {
                    chaosErrors.incrementAndGet();
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
            }
        });
        try {
            chaos.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        env.faultEnds();
        env.converge(
                rebuilds.get() + " rebuild requests / snapshot deletions (" + deletes.get() + " deletions) over "
                        + hold().multipliedBy(2).toMillis() + " ms, group retire/reopen",
                0);
        assertThat(instances.stream().filter(r -> r.admin().isReplayer())).hasSize(1);
        assertThat(load.served.get()).isPositive();
    }
}
