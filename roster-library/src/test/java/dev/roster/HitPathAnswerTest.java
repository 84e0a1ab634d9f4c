package dev.roster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.core.AccountCard;
import dev.roster.core.service.ListResult;
import dev.roster.testkit.TestClock;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The near-cache hit path of {@link Roster#list} on real PostgreSQL and Redis: a warm call returns the
 * answer it built before (no allocation at all), until the snapshot's version changes or the clock
 * crosses the instant at which some card's time block ends.
 */
class HitPathAnswerTest {
    private static final Long NO_GROUP = null;

    @Test
    void aWarmHitAllocatesNothingPerCall() {
        Servers servers = new Servers(HitPathAnswerTest.class, "alloc");
        servers.openaiAccounts(200);
        try (Roster roster = servers.roster().build()) {
            await().until(roster::ready);
            await().until(() -> roster.list(NO_GROUP, "openai", false).source() == ListResult.Source.NEAR_CACHE);
            int sink = 0;
            // Warm-up: the JIT compiles the path; allocations of compilation are not on this thread.
            for (int i = 0; i < 200_000; i++) {
                sink += roster.list(NO_GROUP, "openai", false).accounts().size();
            }
            int calls = 500_000;
            long before = allocatedByThisThread();
            for (int i = 0; i < calls; i++) {
                sink += roster.list(NO_GROUP, "openai", false).accounts().size();
            }
            long bytes = allocatedByThisThread() - before;
            assertThat(sink).isPositive();
            // Zero expected; the bound leaves room for a rare re-built answer when a version check or a
            // stale confirmation replaces the entry during the loop (a few hundred bytes each).
            assertThat((double) bytes / calls)
                    .as("bytes allocated per warm call (%d in %d calls)", bytes, calls)
                    .isLessThan(1.0);
        }
    }

    @Test
    void theAnswerIsReusedUntilAVersionChangeOrTheEndOfATimeBlock() {
        Servers servers = new Servers(HitPathAnswerTest.class, "window");
        servers.openaiAccounts(5);
        TestClock clock = TestClock.following();
        long blocked = servers.openaiIds().getFirst();
        // A rate limit that ends in a minute of application time (truncated: the database keeps microseconds).
        Instant reset = clock.instant().plusSeconds(60).truncatedTo(ChronoUnit.MILLIS);
        servers.sql("UPDATE accounts SET rate_limit_reset_at = '" + reset + "' WHERE id = " + blocked);
        try (Roster roster = servers.roster().clock(clock).build()) {
            await().until(roster::ready);
            await().until(() -> roster.list(NO_GROUP, "openai", false).source() == ListResult.Source.NEAR_CACHE);
            ListResult first = roster.list(NO_GROUP, "openai", false);
            assertThat(ids(first)).doesNotContain(blocked).hasSize(4);
            assertThat(first.validUntil()).isEqualTo(reset);
            assertThat(roster.list(NO_GROUP, "openai", false))
                    .as("the same answer object while nothing changed")
                    .isSameAs(first);

            clock.advance(Duration.ofSeconds(61));
            ListResult after = awaitNear(roster);
            assertThat(after).isNotSameAs(first);
            assertThat(ids(after)).contains(blocked).hasSize(5);
            assertThat(after.validFrom()).isEqualTo(reset);
            assertThat(after.version()).as("the same snapshot, a new window").isEqualTo(first.version());
            assertThat(roster.list(NO_GROUP, "openai", false)).isSameAs(after);

            servers.sql("UPDATE accounts SET priority = 7 WHERE id = "
                    + servers.openaiIds().getLast());
            await().until(() -> roster.list(NO_GROUP, "openai", false).version() > after.version());
            ListResult changed = awaitNear(roster);
            assertThat(changed).isNotSameAs(after);
            assertThat(roster.list(NO_GROUP, "openai", false)).isSameAs(changed);
        }
    }

    /**
     * {@code com.sun.management.ThreadMXBean#getCurrentThreadAllocatedBytes}, looked up by name: the test
     * sources compile as the library's module, which does not read {@code jdk.management}.
     */
    private static long allocatedByThisThread() {
        try {
            Method m = Class.forName("com.sun.management.ThreadMXBean").getMethod("getCurrentThreadAllocatedBytes");
            return (long) m.invoke(ManagementFactory.getThreadMXBean());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("this JVM does not count allocated bytes per thread", e);
        }
    }

    private static ListResult awaitNear(Roster roster) {
        await().until(() -> roster.list(NO_GROUP, "openai", false).source() == ListResult.Source.NEAR_CACHE);
        return roster.list(NO_GROUP, "openai", false);
    }

    private static List<Long> ids(ListResult r) {
        return r.accounts().stream().map(AccountCard::id).toList();
    }
}
