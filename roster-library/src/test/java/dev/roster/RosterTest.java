package dev.roster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.core.AccountCard;
import dev.roster.core.service.ListResult;
import dev.roster.testkit.RedisHarness;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The library end to end on real servers: build, hot path, a change through SQL, last-used, close. */
class RosterTest {
    private static Servers servers;

    @BeforeAll
    static void servers() {
        servers = new Servers(RosterTest.class, "lib");
        RedisHarness.shared().start();
    }

    @AfterAll
    static void done() {
        // Nothing to close: each test closes its own Roster.
    }

    private static List<Long> ids(ListResult r) {
        return r.accounts().stream().map(AccountCard::id).toList();
    }

    @Test
    void aStartedRosterServesTheBucketFromTheNearCacheAndSeesACommitThroughPlainSql() {
        servers.openaiAccounts(5);
        try (Roster roster = servers.roster().build()) {
            await().until(roster::ready);
            await().untilAsserted(() ->
                    assertThat(ids(roster.list(null, "openai", false))).isEqualTo(servers.openaiIds()));
            ListResult warm = roster.list(null, "openai", false);
            assertThat(warm.source()).isEqualTo(ListResult.Source.NEAR_CACHE);

            long first = servers.openaiIds().getFirst();
            servers.sql("UPDATE accounts SET schedulable = false WHERE id = " + first);
            await().untilAsserted(() -> {
                ListResult r = roster.list(null, "openai", false);
                assertThat(ids(r)).doesNotContain(first).isEqualTo(servers.openaiIds());
                assertThat(r.source()).isEqualTo(ListResult.Source.NEAR_CACHE);
            });
            assertThat(roster.listening()).isTrue();
            assertThat(roster.getAccount(first))
                    .get()
                    .extracting(AccountCard::schedulable)
                    .isEqualTo(false);
            assertThat(roster.audit().clean()).isTrue();
        }
    }

    @Test
    void markUsedReachesRedisAtOnceAndPostgresInOneBatchedWrite() {
        servers.openaiAccounts(3);
        List<Long> ids = servers.openaiIds();
        // This test's own accounts (the class shares one database).
        long a = ids.get(ids.size() - 2);
        long b = ids.getLast();
        Instant t = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        try (Roster roster = servers.roster().build()) {
            await().until(roster::ready);
            long flushesBefore = roster.service().lastUsedFlushes();
            roster.markUsed(a, t);
            roster.markUsed(b, t.plusSeconds(1));
            roster.markUsed(a, t.minusSeconds(60)); // never moves backwards
            // Redis has it at once: no waiting here.
            assertThat(roster.projection().lastUsed(List.of(a, b))).isEqualTo(Map.of(a, t, b, t.plusSeconds(1)));
            assertThat(roster.lastUsed(List.of(a, b))).isEqualTo(Map.of(a, t, b, t.plusSeconds(1)));
            await().untilAsserted(() -> assertThat(
                            servers.ids("SELECT (extract(epoch FROM last_used_at) * 1000)::bigint"
                                    + " FROM accounts WHERE id IN (" + a + "," + b + ") ORDER BY id"))
                    .containsExactly(t.toEpochMilli(), t.plusSeconds(1).toEpochMilli()));
            // Both accounts went in one flush (one UPDATE) unless the flush timer split them.
            assertThat(roster.service().lastUsedFlushes() - flushesBefore).isBetween(1L, 2L);
            // The capture triggers ignore last_used_at: no outbox event for it.
            assertThat(servers.ids("SELECT count(*) FROM scheduler_outbox WHERE event_type = 'account_last_used'"))
                    .containsExactly(0L);
        }
    }

    @Test
    void closeFlushesLastUsedAndStopsEveryThreadItStarted() {
        servers.openaiAccounts(1);
        long a = servers.openaiIds().getLast();
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        Instant t = Instant.now().truncatedTo(ChronoUnit.MILLIS).plusSeconds(3600);
        Roster roster = servers.roster()
                .config(Servers.CONFIG.withNearCache(
                        Servers.CONFIG.nearCache().withLastUsedFlushInterval(Duration.ofHours(1))))
                .build();
        await().until(roster::ready);
        roster.list(null, "openai", false);
        roster.markUsed(a, t);
        Set<String> started = Thread.getAllStackTraces().keySet().stream()
                .filter(th -> !before.contains(th))
                .map(Thread::getName)
                .collect(Collectors.toSet());
        assertThat(started)
                .anyMatch(n -> n.startsWith("roster-replay"))
                .anyMatch(n -> n.startsWith("roster-nearcache-refresh"))
                .anyMatch(n -> n.startsWith("roster-outbox-listen"))
                .anyMatch(n -> n.startsWith("roster-last-used"))
                .anyMatch(n -> n.startsWith("lettuce-"));
        roster.close();
        // The flush interval is an hour: only close can have written it.
        assertThat(servers.ids(
                        "SELECT (extract(epoch FROM last_used_at) * 1000)::bigint FROM accounts WHERE id = " + a))
                .containsExactly(t.toEpochMilli());
        // Lettuce's and Hikari's threads end asynchronously after their shutdown returns.
        await().untilAsserted(() -> assertThat(Thread.getAllStackTraces().keySet().stream()
                        .filter(th -> !before.contains(th) && th.isAlive())
                        .map(Thread::getName)
                        // The JDK's own (common pool, virtual-thread scheduler and pollers) and Awaitility's.
                        .filter(n -> !n.startsWith("ForkJoinPool")
                                && !n.startsWith("awaitility")
                                && !n.startsWith("VirtualThread-")
                                && !n.endsWith("Poller")))
                .isEmpty());
    }
}
