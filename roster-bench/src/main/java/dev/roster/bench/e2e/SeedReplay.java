package dev.roster.bench.e2e;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Platforms;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.internal.CurrentGeneration;
import dev.roster.core.internal.Engine;
import dev.roster.core.internal.Universe;
import dev.roster.core.outbox.OutboxCursor;
import dev.roster.core.outbox.OutboxEvent;
import dev.roster.postgres.PostgresSchedulingSource;
import dev.roster.redis.RedisConnectionOptions;
import dev.roster.redis.RedisProjection;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The baseline arm of the replay scenario: the seed's replay configuration (docs/upstream.md W2) on
 * Roster's own rebuild step. One poll per second reads at most 200 events; every event is handled on
 * its own, without coalescing: the account is read, then each of its buckets (payload groups, current
 * groups and group 0; two or three modes per platform, the mixed ones too for antigravity) is rebuilt
 * one after the other; a poll that takes longer than a second drops the ticks it overran, as the seed's
 * ticker did. It writes under its own key prefix, so it shares PostgreSQL and Redis with the Roster arm
 * but not its keys.
 */
final class SeedReplay {
    static final int EVENTS_PER_POLL = 200;

    record Result(long events, long bucketRebuilds, double seconds, long polls) {}

    static Result run(Stores s, double seconds) {
        ServiceConfig config = ServiceConfig.DEFAULTS;
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (RedisProjection projection =
                RedisProjection.connect(RedisConnectionOptions.of(s.redis.uri()), "seed:", Duration.ofSeconds(60))) {
            PostgresSchedulingSource source = new PostgresSchedulingSource(s.ds);
            Engine engine = new Engine(
                    source,
                    projection,
                    config,
                    InstantSource.system(),
                    new CurrentGeneration(projection, Engine.fingerprintOf(config)),
                    pool);
            Set<Long> active = new java.util.HashSet<>();
            source.activeGroups().forEach(g -> active.add(g.id()));
            OutboxCursor cursor = new OutboxCursor(source.outbox(), 0, 10_000, EVENTS_PER_POLL);
            long events = 0;
            long rebuilds = 0;
            long polls = 0;
            long start = System.nanoTime();
            long end = start + (long) (seconds * 1e9);
            long tick = start;
            while (System.nanoTime() < end) {
                OutboxCursor.Batch batch = cursor.next();
                polls++;
                for (OutboxEvent e : batch.events()) {
                    rebuilds += handle(engine, source, e, active);
                    events++;
                    if (System.nanoTime() >= end) {
                        break;
                    }
                }
                cursor.acknowledge(batch);
                // The next tick of a 1-s ticker; ticks that passed while the poll ran are dropped.
                long now = System.nanoTime();
                do {
                    tick += TimeUnit.SECONDS.toNanos(1);
                } while (tick <= now);
                while (System.nanoTime() < Math.min(tick, end)) {
                    LockSupport.parkNanos(Math.min(tick, end) - System.nanoTime());
                }
            }
            return new Result(events, rebuilds, (System.nanoTime() - start) / 1e9, polls);
        } finally {
            pool.shutdownNow();
        }
    }

    private static long handle(Engine engine, PostgresSchedulingSource source, OutboxEvent e, Set<Long> active) {
        List<Long> ids;
        List<Long> payload;
        switch (e) {
            case OutboxEvent.AccountChanged a -> {
                ids = List.of(a.accountId());
                payload = a.groupIds();
            }
            case OutboxEvent.AccountGroupsChanged a -> {
                ids = a.accountIds();
                payload = a.groupIds();
            }
            case OutboxEvent.AccountBulkChanged a -> {
                ids = a.accountIds();
                payload = a.groupIds();
            }
            default -> {
                return 0;
            }
        }
        long rebuilds = 0;
        // The seed handled a bulk event account by account.
        for (long id : ids) {
            Map<Long, AccountCard> cards = source.loadCards(List.of(id));
            AccountCard card = cards.get(id);
            if (card == null) {
                continue;
            }
            engine.projection().putCards(List.of(card));
            Set<Long> groups = new LinkedHashSet<>(payload);
            card.groups().forEach(l -> groups.add(l.groupId()));
            groups.add(0L);
            List<String> platforms = Platforms.ANTIGRAVITY.equals(card.platform())
                    ? List.of(card.platform(), Platforms.ANTHROPIC, Platforms.GEMINI)
                    : List.of(card.platform());
            List<Bucket> buckets = new ArrayList<>();
            for (long g : groups) {
                for (String p : platforms) {
                    buckets.addAll(Universe.canonical(g, p));
                }
            }
            for (Bucket b : buckets) {
                engine.rebuild(b, active);
                rebuilds++;
            }
        }
        return rebuilds;
    }

    private SeedReplay() {}
}
