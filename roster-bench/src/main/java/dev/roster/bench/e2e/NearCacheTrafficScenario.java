package dev.roster.bench.e2e;

import dev.roster.Roster;
import dev.roster.core.Bucket;
import dev.roster.core.config.NearCacheConfig;
import dev.roster.core.nearcache.NearCache;
import dev.roster.core.projection.Projection;
import dev.roster.redis.RedisConnectionOptions;
import dev.roster.redis.RedisProjection;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;

/**
 * What the near caches of many instances cost Redis during a live storm (decision NC6): one Roster
 * instance replays (and holds the replayer lease), {@code caches} simulated instances each hold a near
 * cache over their own Redis connection, caching the four group-0 buckets (a quarter of the pool
 * each: 25,000 cards at full size) and the first groups' buckets. Then the replay scenario's storm
 * writes for {@code stormSeconds}, twice in one run:
 *
 * <ul>
 *   <li><b>full reads</b>: each near cache re-reads the whole snapshot on every invalidation and
 *       check, as before snapshots had parts (its projection answers every refresh with a full read);
 *   <li><b>parts</b>: each refresh transfers only the parts the cache lacks.
 * </ul>
 *
 * The oracle is Redis's own {@code total_net_output_bytes} before and after each storm (everything it
 * sent to anyone, the replayer's traffic included, alike in both arms), beside the bytes the caches'
 * projections counted.
 */
final class NearCacheTrafficScenario {
    record Size(int accounts, int groups, int caches, int groupBuckets, double stormSeconds, int stormWriters) {
        static final Size FULL = new Size(100_000, 1_000, 20, 8, 20, 4);
        static final Size TINY = new Size(4_000, 40, 20, 8, 3, 2);

        Size withWriters(int n) {
            return new Size(accounts, groups, caches, groupBuckets, stormSeconds, n);
        }
    }

    private static final List<String> PLATFORMS = List.of("anthropic", "openai", "gemini", "antigravity");

    /** The storm's target in statements per second over all connections; 0 is unthrottled. */
    double stormRate;

    private record Arm(String name, long redisBytes, long cacheBytes, long refreshes, long rows, double seconds) {}

    void run(Size size, Report report, String command) throws Exception {
        Pool pool = new Pool(size.accounts(), size.groups());
        try (Stores s = Stores.start("nearcache-traffic")) {
            pool.insert(s);
            try (Roster replayer = s.roster(FreshnessScenario.CONFIG).build()) {
                if (!Stores.await(replayer::ready, 600)) {
                    throw new IllegalStateException("the replaying instance was not ready within 600 s");
                }
                for (String p : PLATFORMS) {
                    // Resolves (and, if not built yet, publishes) the buckets a gateway asks for.
                    replayer.list(null, p, false);
                }
                for (long g = 1; g <= size.groupBuckets(); g++) {
                    replayer.list(g, PLATFORMS.get((int) ((g - 1) % 4)), false);
                }
                List<Bucket> buckets = replayer.projection().buckets().stream()
                        .filter(b -> b.groupId() <= size.groupBuckets())
                        .sorted(java.util.Comparator.comparing(Bucket::text))
                        .toList();
                List<Arm> arms = new ArrayList<>();
                arms.add(arm("full reads", true, s, pool, size, buckets));
                arms.add(arm("parts", false, s, pool, size, buckets));

                Report.Section sec = report.section("Near caches during a live storm: Redis network output")
                        .goal("Bytes read from Redis per instance in proportion to the change, not to the bucket:"
                                + " the near caches' output with parts far below the full-read arm's.")
                        .command(command)
                        .table(
                                "arm",
                                "storm",
                                "outbox rows",
                                "Redis output (all clients)",
                                "per second",
                                "snapshot bytes read by the caches",
                                "per cache per second",
                                "refreshes");
                for (Arm a : arms) {
                    sec.row(
                            "**" + a.name() + "**",
                            Report.f("%.1f s", a.seconds()),
                            Report.n(a.rows()),
                            Report.f("%,.1f MB", a.redisBytes() / 1e6),
                            Report.f("%,.2f MB/s", a.redisBytes() / 1e6 / a.seconds()),
                            Report.f("%,.1f MB", a.cacheBytes() / 1e6),
                            Report.f("%,.3f MB/s", a.cacheBytes() / 1e6 / a.seconds() / size.caches()),
                            Report.n(a.refreshes()));
                }
                sec.note(Report.f(
                        "Pool: %,d accounts in %,d groups; %d simulated instances, each a near cache on its own"
                                + " connection caching the %d registered buckets of group 0 (about %,d cards per"
                                + " platform) and groups 1 to %d; one more instance replays. Storm: %d writer"
                                + " connections, %s.",
                        size.accounts(),
                        size.groups(),
                        size.caches(),
                        buckets.size(),
                        size.accounts() / 4,
                        size.groupBuckets(),
                        size.stormWriters(),
                        stormRate == 0 ? "unthrottled" : Report.f("paced at %,.0f/s", stormRate)));
                report.add(sec);
            }
        }
    }

    private Arm arm(String name, boolean fullReads, Stores s, Pool pool, Size size, List<Bucket> buckets)
            throws Exception {
        List<RedisProjection> projections = new ArrayList<>();
        List<NearCache> caches = new ArrayList<>();
        try {
            for (int i = 0; i < size.caches(); i++) {
                RedisProjection p = RedisProjection.connect(
                        RedisConnectionOptions.of(s.redis.uri()), "bench:", Projection.DEFAULT_GRACE);
                projections.add(p);
                NearCache c = new NearCache(
                        fullReads ? fullReads(p) : p, g -> true, InstantSource.system(), NearCacheConfig.DEFAULTS);
                caches.add(c);
                for (Bucket b : buckets) {
                    c.load(b);
                }
                c.start();
            }
            long cacheBefore = projections.stream()
                    .mapToLong(RedisProjection::snapshotBytesRead)
                    .sum();
            long refreshesBefore = caches.stream()
                    .mapToLong(c -> c.stats().refreshes() + c.stats().checks())
                    .sum();
            long before = s.redisNetOutputBytes();
            long start = System.nanoTime();
            long rows = ReplayScenario.storm(
                    s, pool, Long.MAX_VALUE, size.stormSeconds(), 11, size.stormWriters(), stormRate, id -> false);
            long end = System.nanoTime();
            long after = s.redisNetOutputBytes();
            long cacheAfter = projections.stream()
                    .mapToLong(RedisProjection::snapshotBytesRead)
                    .sum();
            long refreshesAfter = caches.stream()
                    .mapToLong(c -> c.stats().refreshes() + c.stats().checks())
                    .sum();
            return new Arm(
                    name,
                    after - before,
                    cacheAfter - cacheBefore,
                    refreshesAfter - refreshesBefore,
                    rows,
                    (end - start) / 1e9);
        } finally {
            caches.forEach(NearCache::close);
            projections.forEach(RedisProjection::close);
        }
    }

    /** The projection as it read before parts: every refresh is a full read. */
    private static Projection fullReads(Projection p) {
        InvocationHandler h = (proxy, method, args) -> {
            try {
                if (method.getName().equals("refreshSnapshot")) {
                    return p.readSnapshot((Bucket) args[0]);
                }
                return method.invoke(p, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (Projection)
                Proxy.newProxyInstance(Projection.class.getClassLoader(), new Class<?>[] {Projection.class}, h);
    }
}
