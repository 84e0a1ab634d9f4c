package dev.roster.it.faults;

import dev.roster.testkit.PostgresHarness;
import dev.roster.testkit.RedisHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestInfo;

/**
 * Common frame of the fault suite: tagged {@code fault} (run only by {@code -Pfaults}, in its own
 * surefire execution), a fresh {@link FaultEnv} per test, and the shared servers restored after every
 * test whatever it did to them (started, healed, resumed), so one scenario's fault never leaks into
 * the next.
 */
@Tag("fault")
abstract class FaultTestBase {
    FaultEnv env;

    @BeforeEach
    void createWorld(TestInfo info) {
        env = new FaultEnv(getClass(), info.getTestMethod().orElseThrow().getName());
    }

    /**
     * Seeds the pool, starts {@code instances} Rosters, waits for the first full rebuild, starts the
     * load and runs it for the warm-up.
     */
    Load startLoad(int instances, boolean groupFlips) {
        Load load = env.load(groupFlips);
        for (int i = 0; i < instances; i++) {
            env.roster();
        }
        env.awaitReady();
        load.start();
        Load.hold(env.size.warmup());
        return load;
    }

    /** The fault hold of the current size. */
    java.time.Duration hold() {
        return env.size.hold();
    }

    /** Milliseconds of the fault hold, for the report. */
    long holdMs() {
        return env.size.hold().toMillis();
    }

    @AfterEach
    void restoreServers() {
        RedisHarness redis = RedisHarness.shared();
        redis.resume();
        redis.heal();
        redis.start();
        PostgresHarness.shared().start();
        if (env != null) {
            env.close();
        }
    }
}
