package dev.roster.core.replay;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Platforms;
import dev.roster.core.RunMode;
import dev.roster.core.internal.Universe;
import dev.roster.core.outbox.OutboxEvent;
import dev.roster.core.pool.PoolModel;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one outbox batch does, worked out from its events before anything is written: the cards to
 * write or delete, the last-used values to move forward, the buckets it makes dirty (with the events
 * that dirtied each, to charge them when a bucket cannot be published) and the full rebuilds it asks
 * for. The dirty-bucket rule per event is the seed's with Roster's fixes: an account event dirties the
 * buckets of its payload groups and of the groups the account had and has, always group 0, on the
 * platforms the account had (from the model), has and the event names (every platform when it names
 * none, or when the account is gone); a group event dirties the group's canonical and registered
 * buckets. The replayer adds, from the model, the buckets each changed card left or entered.
 */
final class BatchPlan {
    private static final Logger LOG = LoggerFactory.getLogger(BatchPlan.class);

    private final PoolModel model;
    private final RunMode runMode;
    private final Supplier<Set<Bucket>> registry;

    final Map<Long, AccountCard> put = new LinkedHashMap<>();
    final Set<Long> delete = new TreeSet<>();
    final Map<Long, Instant> lastUsed = new HashMap<>();
    final Set<Bucket> dirty = new LinkedHashSet<>();
    /**
     * The events that made each bucket dirty (charged when it cannot be published), in the order they
     * were added, with repeats: a group-0 bucket collects every event of a batch, so a set per bucket
     * cost more than the rest of the plan. Read through {@link #eventsDirtying}, on failures only.
     */
    private final Map<Bucket, EventIds> dirtyBy = new HashMap<>();
    /** {@link Universe#canonical(long, String)} per group and platform, built once per plan. */
    private final Map<Long, Map<String, List<Bucket>>> canonical = new HashMap<>();

    final Map<Long, Set<Long>> eventsOfAccount = new HashMap<>();
    final Set<String> fullRebuilds = new LinkedHashSet<>();
    private @Nullable Set<String> allPlatforms;
    private @Nullable Set<Bucket> registered;

    /**
     * An empty plan over {@code model} (as it was before the batch's rows are applied); {@code registry}
     * gives the registered buckets, read at most once and only when an event needs them.
     */
    BatchPlan(PoolModel model, RunMode runMode, Supplier<Set<Bucket>> registry) {
        this.model = Objects.requireNonNull(model, "model");
        this.runMode = Objects.requireNonNull(runMode, "runMode");
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    void dirty(Bucket b, long eventId) {
        dirty.add(b);
        dirtyBy.computeIfAbsent(b, k -> new EventIds()).add(eventId);
    }

    void dirty(Collection<Bucket> buckets, Set<Long> eventIds) {
        for (Bucket b : buckets) {
            dirty.add(b);
            EventIds ids = dirtyBy.computeIfAbsent(b, k -> new EventIds());
            for (long id : eventIds) {
                ids.add(id);
            }
        }
    }

    /** The events that made {@code b} dirty, in id order. */
    Set<Long> eventsDirtying(Bucket b) {
        EventIds ids = dirtyBy.get(b);
        return ids == null ? Set.of() : ids.toSet();
    }

    private List<Bucket> canonical(long g, String platform) {
        return canonical
                .computeIfAbsent(g, k -> new HashMap<>())
                .computeIfAbsent(platform, p -> Universe.canonical(g, p));
    }

    /** A growable list of event ids; a repeat of the last id added is dropped. */
    private static final class EventIds {
        private long[] ids = new long[4];
        private int size;

        void add(long id) {
            if (size > 0 && ids[size - 1] == id) {
                return;
            }
            if (size == ids.length) {
                ids = Arrays.copyOf(ids, size * 2);
            }
            ids[size++] = id;
        }

        Set<Long> toSet() {
            Set<Long> out = new TreeSet<>();
            for (int i = 0; i < size; i++) {
                out.add(ids[i]);
            }
            return out;
        }
    }

    Set<String> allPlatforms() {
        if (allPlatforms == null) {
            allPlatforms = Universe.platforms(model.platforms(), registered());
        }
        return allPlatforms;
    }

    Set<Bucket> registered() {
        if (registered == null) {
            registered = registry.get();
        }
        return registered;
    }

    /**
     * Adds the effects of {@code e}, whose named accounts' current cards are {@code cards} (absent =
     * gone); unknown event types are counted in {@code unknown} and skipped.
     *
     * @throws Replayer.MalformedEventException for a malformed row
     */
    void add(OutboxEvent e, Map<Long, AccountCard> cards, AtomicLong unknown) {
        switch (e) {
            case OutboxEvent.AccountChanged a ->
                account(a.id(), a.accountId(), cards, a.groupIds(), formerPlatforms(a.platforms()));
            case OutboxEvent.AccountGroupsChanged a -> {
                // A links statement never changes an account's platform: the card's platform is all.
                for (long id : a.accountIds()) {
                    account(a.id(), id, cards, a.groupIds(), Set.of());
                }
            }
            case OutboxEvent.AccountBulkChanged a -> {
                Set<String> former = formerPlatforms(a.platforms());
                for (long id : a.accountIds()) {
                    account(a.id(), id, cards, a.groupIds(), former);
                }
            }
            case OutboxEvent.GroupChanged g -> group(g);
            case OutboxEvent.AccountLastUsed u ->
                u.lastUsed().forEach((id, at) -> {
                    if (id > 0 && at.getEpochSecond() > 0) {
                        lastUsed.merge(id, at, (x, y) -> x.isAfter(y) ? x : y);
                    }
                });
            case OutboxEvent.FullRebuild f -> fullRebuilds.add("outbox");
            case OutboxEvent.Unknown u -> {
                unknown.incrementAndGet();
                LOG.info("skipping outbox event {} of unknown type '{}'", u.id(), u.eventType());
            }
            case OutboxEvent.Malformed m -> throw new Replayer.MalformedEventException(m.reason());
        }
    }

    /**
     * The platforms whose buckets an account event may have taken accounts out of: the event's old ∪
     * new platforms with the mixed platforms an antigravity account can appear in, or every platform
     * when the event does not say (rows written before capture named them, or by another writer).
     */
    private Set<String> formerPlatforms(@Nullable List<String> stated) {
        if (stated == null) {
            return allPlatforms();
        }
        Set<String> out = new LinkedHashSet<>();
        for (String p : stated) {
            out.addAll(bucketPlatforms(p));
        }
        return out;
    }

    /** The platforms of the buckets an account of {@code platform} can be listed in. */
    private static List<String> bucketPlatforms(String platform) {
        return Platforms.ANTIGRAVITY.equals(platform)
                ? List.of(platform, Platforms.ANTHROPIC, Platforms.GEMINI)
                : List.of(platform);
    }

    private void account(
            long eventId,
            long accountId,
            Map<Long, AccountCard> cards,
            List<Long> payload,
            Set<String> formerPlatforms) {
        if (accountId <= 0) {
            return;
        }
        eventsOfAccount.computeIfAbsent(accountId, k -> new TreeSet<>()).add(eventId);
        AccountCard card = cards.get(accountId);
        // The model's card says where the account was (before this batch's rows are applied).
        AccountCard before = model.card(accountId);
        List<Long> groups = new ArrayList<>(payload);
        // The reloaded card says where the account is now; the event says where it may have been.
        Collection<String> platforms = new LinkedHashSet<>(formerPlatforms);
        if (before != null) {
            before.groups().forEach(l -> groups.add(l.groupId()));
            platforms.addAll(bucketPlatforms(before.platform()));
        }
        if (card == null) {
            put.remove(accountId);
            delete.add(accountId);
            // The seed's rule, kept: a vanished account is rebuilt on every platform.
            platforms = allPlatforms();
        } else {
            delete.remove(accountId);
            put.put(accountId, card);
            card.groups().forEach(l -> groups.add(l.groupId()));
            platforms.addAll(bucketPlatforms(card.platform()));
        }
        Set<Long> gids = new LinkedHashSet<>(Universe.normalizeGroups(groups, runMode));
        // Group 0 holds every account of the platform (scope all) or the ungrouped ones, which a link
        // change moves in or out of: its buckets are always affected (the seed's gap G5, docs/upstream.md).
        gids.add(0L);
        for (long g : gids) {
            for (String p : platforms) {
                for (Bucket b : canonical(g, p)) {
                    dirty(b, eventId);
                }
            }
        }
    }

    private void group(OutboxEvent.GroupChanged e) {
        for (long g : e.groupIds()) {
            long target = Universe.normalizeGroup(g, runMode);
            if (g <= 0) {
                continue;
            }
            for (Bucket b : Universe.canonical(target, allPlatforms())) {
                dirty(b, e.id());
            }
            if (target > 0) {
                for (Bucket b : registered()) {
                    if (b.groupId() == target) {
                        dirty(b, e.id());
                    }
                }
            }
        }
    }
}
