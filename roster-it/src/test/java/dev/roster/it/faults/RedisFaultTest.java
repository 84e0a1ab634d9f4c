package dev.roster.it.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.Roster;
import dev.roster.core.Bucket;
import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.nearcache.NearCache;
import dev.roster.core.service.FallbackLimitedException;
import dev.roster.core.service.ListResult;
import dev.roster.testkit.RedisHarness;
import dev.roster.testkit.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Redis goes away under load, in each of the ways production loses it: the process stopped (connections
 * refused, data gone on start), the network paused (bytes stop, connections stay), partitioned
 * (connections dropped, new ones black-holed) and the data flushed. Readers must keep being answered
 * (near cache, then the guarded database fallback) and, once Redis is back, the projection must converge
 * to the bucket query with no event lost.
 */
class RedisFaultTest extends FaultTestBase {
    private final RedisHarness redis = RedisHarness.shared();

    @Test
    void redisStoppedUnderLoad() {
        Load load = startLoad(2, false);
        env.faultStarts();
        redis.stop();
        Load.hold(hold());
        redis.start();
        env.faultEnds();
        env.converge("Redis stopped " + holdMs() + " ms, started empty", 0);
        assertThat(load.served.get()).isPositive();
    }

    @Test
    void redisPausedUnderLoad() {
        Load load = startLoad(2, false);
        env.faultStarts();
        redis.pause();
        Load.hold(hold());
        redis.resume();
        env.faultEnds();
        env.converge("Redis paused (proxy) " + holdMs() + " ms", 0);
        assertThat(load.served.get()).isPositive();
    }

    @Test
    void redisPartitionedUnderLoad() {
        Load load = startLoad(2, false);
        env.faultStarts();
        redis.partition();
        Load.hold(hold());
        redis.heal();
        env.faultEnds();
        env.converge("Redis partitioned (proxy) " + holdMs() + " ms", 0);
        assertThat(load.served.get()).isPositive();
    }

    @Test
    void redisFlushedUnderLoad() {
        Load load = startLoad(2, false);
        env.faultStarts();
        redis.flushAll();
        Load.hold(hold());
        redis.flushAll();
        env.faultEnds();
        env.converge("FLUSHALL twice, " + holdMs() + " ms apart", 0);
        assertThat(load.served.get()).isPositive();
    }

    /** The outage scenario's staleness bound: held entries are served this long after their last confirmation. */
    private static final Duration MAX_STALE = Duration.ofSeconds(2);
    /** The outage scenario's fallback budget per second and instance. */
    private static final int MAX_QPS = 4;
    /** Limiter windows the database phase of the outage scenario runs. */
    private static final int WINDOWS = 3;

    /**
     * The read promise of a Redis outage, counted exactly on a hand-driven clock: with Redis stopped,
     * every held bucket is answered from the near cache up to {@code max_stale} after its last
     * confirmation (the bound itself included), and past it every read (lists and cards) goes to the
     * database, of which exactly {@code db_fallback_max_qps} per limiter second are answered and every
     * other one fails with {@link FallbackLimitedException}, and nothing else fails. Reads are driven by
     * the test thread one at a time (the writer runs as usual), so each read takes its own limiter slot
     * and the counts are exact. Warm-up reads, including the refusals of a cold start, are not counted
     * in the fault's figures.
     */
    @Test
    void redisStoppedReadsNearCacheThenLimitedDatabase() {
        SchedulingConfig s = FaultEnv.CONFIG.scheduling();
        ServiceConfig config = FaultEnv.CONFIG
                .withNearCache(FaultEnv.CONFIG.nearCache().withTiming(MAX_STALE, Duration.ofMillis(250)))
                .withScheduling(s.toBuilder()
                        .dbFallbackEnabled(true)
                        .dbFallbackMaxQps(MAX_QPS)
                        .build());
        TestClock clock = TestClock.following();
        Load load = env.load(false);
        Roster roster = env.roster(clock, config);
        env.awaitReady();
        load.startWriterOnly();
        NearCache cache = roster.service().nearCache().orElseThrow();
        List<Long> groups = new ArrayList<>(env.groupIds);
        groups.add(null);
        List<Long> cards = load.accountIds().subList(0, 4);

        // Warm-up (Redis up, clock running): every bucket read until the near cache answers it. A cold
        // bucket the projection lacks goes to the limited fallback and may be refused: retried here,
        // never counted in the fault's figures below.
        Reads warm = new Reads(load);
        await("near cache warm for every bucket")
                .atMost(env.size.converge())
                .pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    boolean all = true;
                    for (Long g : groups) {
                        for (String p : Load.PLATFORMS) {
                            all &= warm.list(roster, g, p) == ListResult.Source.NEAR_CACHE;
                        }
                    }
                    return all;
                });
        List<Bucket> buckets = new ArrayList<>();
        for (Long g : groups) {
            for (String p : Load.PLATFORMS) {
                buckets.add(FaultEnv.bucket(g, p, false));
            }
        }
        // Freeze the clock and wait until the version check has confirmed every held bucket at the
        // frozen instant, so that all entries age from one known confirmation.
        Instant frozen = clock.freeze();
        await("every held bucket confirmed at the frozen instant")
                .atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> buckets.stream().allMatch(b -> {
                    NearCache.Entry e = cache.get(b);
                    return e != null && e.confirmedAtMillis() == frozen.toEpochMilli();
                }));

        long fallbacksBefore = roster.admin().fallbackQueries();
        env.faultStarts();
        redis.stop();
        Reads fault = new Reads(load);

        // Up to max_stale after the confirmation, the bound included: the near cache, no fallback.
        for (Duration at : List.of(Duration.ZERO, MAX_STALE.dividedBy(2), MAX_STALE)) {
            clock.advance(Duration.between(clock.instant(), frozen.plus(at)));
            for (Long g : groups) {
                for (String p : Load.PLATFORMS) {
                    fault.list(roster, g, p);
                }
            }
        }
        int perStep = groups.size() * Load.PLATFORMS.size();
        assertThat(fault.sources)
                .as("answers within max_stale of the confirmation, Redis down")
                .containsExactlyEntriesOf(Map.of(ListResult.Source.NEAR_CACHE, 3L * perStep));
        assertThat(fault.limited).as("reads refused within max_stale").isZero();
        assertThat(roster.admin().fallbackQueries() - fallbacksBefore)
                .as("database fallbacks within max_stale")
                .isZero();

        // Past max_stale: each limiter second answers exactly MAX_QPS reads from the database and refuses
        // the others, lists and cards alike (one budget). The first window opens 1 ms past the bound,
        // more than a second after any warm-up fallback, so no warm-up read shares its budget. Each
        // window reads one card, then every bucket, then the other cards: the first MAX_QPS reads
        // of the window (the card and MAX_QPS - 1 lists) are answered, the rest refused.
        Reads database = new Reads(load);
        for (int w = 0; w < WINDOWS; w++) {
            clock.advance(Duration.between(
                    clock.instant(), frozen.plus(MAX_STALE).plusMillis(1).plusSeconds(w)));
            database.card(roster, cards.getFirst());
            for (Long g : groups) {
                for (String p : Load.PLATFORMS) {
                    database.list(roster, g, p);
                }
            }
            for (long id : cards.subList(1, cards.size())) {
                database.card(roster, id);
            }
        }
        int perWindow = perStep + cards.size();
        assertThat(database.sources)
                .as("list answers past max_stale, Redis down")
                .containsExactlyEntriesOf(Map.of(ListResult.Source.DATABASE, (long) WINDOWS * (MAX_QPS - 1)));
        assertThat(database.cards).as("card answers past max_stale").isEqualTo(WINDOWS);
        assertThat(database.limited)
                .as("reads refused by the limiter past max_stale")
                .isEqualTo((long) WINDOWS * (perWindow - MAX_QPS));
        assertThat(roster.admin().fallbackQueries() - fallbacksBefore)
                .as("database fallbacks run in the outage")
                .isEqualTo((long) WINDOWS * MAX_QPS);

        redis.start();
        clock.thaw();
        env.faultEnds();
        Reliability row = env.converge(
                "Redis stopped; reads on a hand clock: near cache to max_stale " + MAX_STALE.toMillis() + " ms, then "
                        + WINDOWS + " s of database fallback at max " + MAX_QPS + " q/s",
                0);
        assertThat(row.readsServed())
                .as("reads served in the fault window (warm-up excluded)")
                .isEqualTo(3L * perStep + WINDOWS * MAX_QPS);
        assertThat(row.readsFailed())
                .as("reads failed in the fault window (warm-up excluded)")
                .isEqualTo((long) WINDOWS * (perWindow - MAX_QPS));
    }

    /**
     * Reads driven by the test thread, counted by source; a refusal by the fallback limiter is
     * counted, any other failure fails the test. The load's counters are kept too, for the report.
     */
    private static final class Reads {
        final Map<ListResult.Source, Long> sources = new EnumMap<>(ListResult.Source.class);
        final Load load;
        long cards;
        long limited;

        Reads(Load load) {
            this.load = load;
        }

        /** One list read; its source, or null when the limiter refused it. */
        ListResult.Source list(Roster r, Long group, String platform) {
            try {
                ListResult l = r.list(group, platform, false, Duration.ofSeconds(5));
                SecretScan.inspect("list", l.toString());
                sources.merge(l.source(), 1L, Long::sum);
                load.served.incrementAndGet();
                return l.source();
            } catch (FallbackLimitedException e) {
                limited++;
                load.failed.incrementAndGet();
                return null;
            }
        }

        /** One card read (cards have no near cache: with Redis down it is a database read). */
        void card(Roster r, long id) {
            try {
                SecretScan.inspect("getAccount", String.valueOf(r.getAccount(id, Duration.ofSeconds(5))));
                cards++;
                load.served.incrementAndGet();
            } catch (FallbackLimitedException e) {
                limited++;
                load.failed.incrementAndGet();
            }
        }
    }
}
