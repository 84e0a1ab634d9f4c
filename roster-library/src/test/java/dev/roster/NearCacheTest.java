package dev.roster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.nearcache.NearCache;
import dev.roster.core.projection.ProjectionException;
import dev.roster.core.service.FallbackLimitedException;
import dev.roster.core.service.ListResult;
import dev.roster.core.service.SchedulerException;
import dev.roster.core.service.SnapshotService;
import dev.roster.postgres.Databases;
import dev.roster.postgres.PostgresSchedulingSource;
import dev.roster.redis.RedisConnectionOptions;
import dev.roster.redis.RedisProjection;
import dev.roster.testkit.RedisHarness;
import dev.roster.testkit.TestClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The near cache's promises on real PostgreSQL and Redis (docs/architecture.md, "Near cache and the library"): lost
 * invalidations are healed by the version check; warm buckets survive a Redis outage up to max_stale and then go to the
 * limited fallback; a flushed Redis leads to a new generation that the near caches load; and no reader
 * ever sees a bucket go back to an older (generation, version).
 */
class NearCacheTest {
    private static final Bucket OPENAI = Bucket.of(0, "openai", Mode.SINGLE);

    @AfterEach
    void redisRunning() {
        // A test that stops Redis must not leave it stopped for the next one.
        if (!RedisHarness.shared().isRunning()) {
            RedisHarness.shared().start();
        }
    }

    private static List<Long> ids(ListResult r) {
        return r.accounts().stream().map(AccountCard::id).toList();
    }

    private static NearCache.Stats stats(SnapshotService s) {
        return s.nearCache().orElseThrow().stats();
    }

    @Test
    void anInvalidationLostOnPurposeIsHealedByTheVersionCheck() {
        Servers servers = new Servers(NearCacheTest.class, "lost");
        servers.openaiAccounts(10);
        try (HikariDataSource ds = Databases.pool(servers.db.jdbcUrl(), servers.db.user(), servers.db.password(), 4)) {
            new dev.roster.postgres.Migrator(ds).migrate();
            DroppingProjection projection = new DroppingProjection(RedisProjection.connect(
                    RedisConnectionOptions.of(RedisHarness.shared().uri()), servers.prefix, Duration.ofSeconds(60)));
            try (projection;
                    SnapshotService service = SnapshotService.newBuilder()
                            .source(new PostgresSchedulingSource(ds))
                            .projection(projection)
                            .config(Servers.CONFIG)
                            .build()
                            .start()) {
                await().until(service::ready);
                await().until(() -> service.list(null, "openai", false).source() == ListResult.Source.NEAR_CACHE);
                long version = service.list(null, "openai", false).version();
                long loads = stats(service).loads();

                projection.dropping.set(true);
                long first = servers.openaiIds().getFirst();
                servers.sql("UPDATE accounts SET status = 'disabled' WHERE id = " + first);
                // Redis has the new snapshot (the replayer published it) and its message was lost.
                await().until(() ->
                        projection.readSnapshot(OPENAI).value().orElseThrow().version() > version
                                && projection.dropped.get() > 0);
                await().untilAsserted(() -> {
                    ListResult r = service.list(null, "openai", false);
                    assertThat(r.source()).isEqualTo(ListResult.Source.NEAR_CACHE);
                    assertThat(ids(r)).doesNotContain(first).isEqualTo(servers.openaiIds());
                });
                NearCache.Stats s = stats(service);
                assertThat(s.healed()).as("installed by the version check").isPositive();
                assertThat(s.loads())
                        .as("no hot-path reload: the entry never went stale")
                        .isEqualTo(loads);
            }
        }
    }

    @Test
    void redisStoppedWarmBucketsAnswerFromMemoryThenPastMaxStaleFromTheLimitedFallback() {
        Servers servers = new Servers(NearCacheTest.class, "down");
        servers.openaiAccounts(8);
        TestClock clock = TestClock.following();
        ServiceConfig config = Servers.CONFIG.withScheduling(withMaxQps(SchedulingConfig.DEFAULTS, 3));
        try (Roster roster = servers.roster().config(config).clock(clock).build()) {
            await().until(roster::ready);
            await().until(() -> roster.list(null, "openai", false).source() == ListResult.Source.NEAR_CACHE);
            List<Long> expected = servers.openaiIds();

            RedisHarness.shared().stop();
            await().until(() -> redisFails(roster));
            long fallbacks = roster.admin().fallbackQueries();
            for (int i = 0; i < 50; i++) {
                ListResult r = roster.list(null, "openai", false);
                assertThat(r.source()).isEqualTo(ListResult.Source.NEAR_CACHE);
                assertThat(ids(r)).isEqualTo(expected);
            }
            assertThat(roster.admin().fallbackQueries()).isEqualTo(fallbacks);

            // Past max_stale (5 s) with the limiter's window held still: exactly db_fallback_max_qps
            // answers come from PostgreSQL, the rest are refused, none from the old snapshot.
            clock.freeze();
            clock.advance(Duration.ofSeconds(6));
            int fromDatabase = 0;
            int refused = 0;
            for (int i = 0; i < 10; i++) {
                try {
                    ListResult r = roster.list(null, "openai", false);
                    assertThat(r.source()).isEqualTo(ListResult.Source.DATABASE);
                    assertThat(ids(r)).isEqualTo(expected);
                    fromDatabase++;
                } catch (FallbackLimitedException e) {
                    refused++;
                }
            }
            assertThat(fromDatabase).isEqualTo(3);
            assertThat(refused).isEqualTo(7);
            assertThat(roster.admin().fallbackQueries() - fallbacks).isEqualTo(3);

            clock.thaw();
            RedisHarness.shared().start();
            await().ignoreExceptions()
                    .until(() -> roster.list(null, "openai", false).source() == ListResult.Source.NEAR_CACHE);
            assertThat(ids(roster.list(null, "openai", false))).isEqualTo(expected);
        }
    }

    private static boolean redisFails(Roster roster) {
        try {
            roster.projection().generation();
            return false;
        } catch (ProjectionException e) {
            return true;
        }
    }

    private static SchedulingConfig withMaxQps(SchedulingConfig s, int qps) {
        return s.toBuilder().dbFallbackMaxQps(qps).build();
    }

    @Test
    void redisFlushedLeadsToANewGenerationAFullRebuildAndNearCachesReload() {
        Servers servers = new Servers(NearCacheTest.class, "flush");
        servers.openaiAccounts(6);
        try (Roster a = servers.roster().build();
                Roster b = servers.roster().build()) {
            await().until(() -> a.ready() && b.ready());
            for (Roster r : List.of(a, b)) {
                await().until(() -> r.list(null, "openai", false).source() == ListResult.Source.NEAR_CACHE);
            }
            String before = a.list(null, "openai", false).generation();
            assertThat(b.list(null, "openai", false).generation()).isEqualTo(before);

            RedisHarness.shared().flushAll();
            for (Roster r : List.of(a, b)) {
                await().untilAsserted(() -> {
                    ListResult res = r.list(null, "openai", false);
                    assertThat(res.generation()).isNotEqualTo(before);
                    assertThat(res.source()).isEqualTo(ListResult.Source.NEAR_CACHE);
                    assertThat(ids(res)).isEqualTo(servers.openaiIds());
                });
            }
            assertThat(a.list(null, "openai", false).generation())
                    .isEqualTo(b.list(null, "openai", false).generation());
            await().until(() -> a.ready() && b.ready());
            assertThat(a.audit().clean()).isTrue();
        }
    }

    /**
     * Readers on two instances while the replayer and admin rebuilds on both instances publish the
     * bucket and Redis is flushed once (a new generation): no reader ever gets an older (generation,
     * version) than it got before. Answers without a version (a database answer Redis had no ticket
     * for) are judged by their content instead: the writer only ever raises priorities, each change to a
     * value no earlier change used, so no answer of any source may show an account with a lower priority
     * than an earlier answer of the same reader showed. A failed read counts only when it is one of the
     * hot path's typed errors, a failed admin rebuild only when it lost to the flush; anything else, or
     * an error that ends a thread, fails the test.
     */
    @Test
    void noReaderEverSeesAnOlderGenerationOrVersionUnderConcurrentPublishes() throws Exception {
        Servers servers = new Servers(NearCacheTest.class, "mono");
        servers.openaiAccounts(20);
        List<Long> all = servers.openaiIds();
        try (Roster a = servers.roster().build();
                Roster b = servers.roster().build()) {
            await().until(() -> a.ready() && b.ready());
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<Throwable> publishFailures = new ConcurrentLinkedQueue<>();
            AtomicLong reads = new AtomicLong();
            AtomicLong unversioned = new AtomicLong();
            AtomicLong publishes = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            for (Roster r : List.of(a, b)) {
                for (int t = 0; t < 2; t++) {
                    threads.add(Thread.ofPlatform()
                            .name("reader")
                            .uncaughtExceptionHandler((th, e) -> errors.add(e))
                            .start(() -> read(r, stop, violations, errors, reads, unversioned)));
                }
                // Extra publishers besides the replayer: admin rebuilds of the same bucket from both instances.
                threads.add(Thread.ofPlatform()
                        .name("publisher")
                        .uncaughtExceptionHandler((th, e) -> errors.add(e))
                        .start(() -> {
                            while (!stop.get()) {
                                try {
                                    r.admin().rebuildBucket(OPENAI);
                                    publishes.incrementAndGet();
                                } catch (RuntimeException e) {
                                    // Recorded and this publisher ends: one failure fails the test, and a
                                    // failure repeated in a loop must not fill the heap.
                                    publishFailures.add(e);
                                    return;
                                }
                            }
                        }));
            }
            try {
                for (int i = 0; i < 60; i++) {
                    long id = all.get(ThreadLocalRandom.current().nextInt(all.size()));
                    servers.sql("UPDATE accounts SET priority = " + (1_000 + i) + " WHERE id = " + id);
                    if (i == 30) {
                        // A new generation in the middle: readers must never return to the old one.
                        RedisHarness.shared().flushAll();
                    }
                }
                // Generous: the flush makes a full rebuild while six threads load two cores. A bucket
                // stuck on old content stays stuck, so a longer bound hides nothing; the answer's
                // source, generation and version say where it came from when it does.
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    for (Roster r : List.of(a, b)) {
                        ListResult res = r.list(null, "openai", false);
                        assertThat(ids(res))
                                .as("%s %s v%d", res.source(), res.generation(), res.version())
                                .isEqualTo(servers.openaiIds());
                    }
                });
            } finally {
                // Also when the writes or the convergence fail: readers of a closed instance must not
                // outlive the test.
                stop.set(true);
                for (Thread t : threads) {
                    t.join();
                }
            }
            assertThat(errors).as("reader and publisher errors").isEmpty();
            assertThat(publishFailures).as("admin rebuilds that failed").isEmpty();
            assertThat(publishes.get()).as("admin rebuilds").isPositive();
            assertThat(reads.get()).isGreaterThan(100);
            assertThat(violations).isEmpty();
        }
    }

    private static void read(
            Roster r,
            AtomicBoolean stop,
            ConcurrentLinkedQueue<String> violations,
            ConcurrentLinkedQueue<Throwable> errors,
            AtomicLong reads,
            AtomicLong unversioned) {
        String gen = null;
        long version = -1;
        Set<String> left = new HashSet<>();
        java.util.Map<Long, Integer> seenPriority = new java.util.HashMap<>();
        while (!stop.get()) {
            ListResult res;
            try {
                res = r.list(null, "openai", false);
            } catch (SchedulerException e) {
                // A typed refusal (limiter, timeout, store) is not an answer; it never shows old data.
                continue;
            } catch (RuntimeException e) {
                errors.add(e);
                return; // an unexpected error fails the test; looping on it would only fill the heap
            }
            reads.incrementAndGet();
            for (AccountCard c : res.accounts()) {
                Integer before = seenPriority.put(c.id(), c.priority());
                if (before != null && c.priority() < before) {
                    violations.add("account " + c.id() + " priority " + c.priority() + " after " + before + " ("
                            + res.source() + ", " + res.generation() + " v" + res.version() + ")");
                    seenPriority.put(c.id(), before);
                }
            }
            if (res.version() == 0) {
                // A database answer without a version: judged by its content above only.
                unversioned.incrementAndGet();
                continue;
            }
            if (res.generation().equals(gen)) {
                if (res.version() < version) {
                    violations.add(gen + " v" + res.version() + " after v" + version);
                }
                version = Math.max(version, res.version());
            } else {
                if (left.contains(res.generation())) {
                    violations.add("back to generation " + res.generation() + " after " + gen);
                }
                if (gen != null) {
                    left.add(gen);
                }
                gen = res.generation();
                version = res.version();
            }
        }
    }

    @Test
    void nearCacheConfigNamesTheKeyOnInvalidValues() {
        assertThatThrownBy(() -> Servers.CONFIG.nearCache().withTiming(Duration.ofSeconds(1), Duration.ofSeconds(2)))
                .hasMessageContaining("near_cache.check_interval");
        assertThatThrownBy(() -> Servers.CONFIG.nearCache().withTiming(Duration.ZERO, Duration.ofSeconds(2)))
                .hasMessageContaining("near_cache.max_stale");
        assertThatThrownBy(() -> Servers.CONFIG.nearCache().withMaxBuckets(0))
                .hasMessageContaining("near_cache.max_buckets");
    }
}
