package dev.roster.core.source;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Group0Scope;
import dev.roster.core.RunMode;
import dev.roster.core.outbox.OutboxEvent;
import dev.roster.core.outbox.OutboxPosition;
import dev.roster.core.outbox.OutboxRead;
import dev.roster.core.outbox.OutboxSource;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The source of truth as the snapshot service reads it. Cards never carry credentials. Every method
 * reads committed state and throws {@link SourceException} when the store cannot be read.
 */
public interface SchedulingSource {

    /**
     * The durable part of the bucket query Q (docs/architecture.md, "The bucket query") for {@code bucket}, in Q's
     * order: link priority (group &gt; 0), account priority, account id. Apply {@link dev.roster.core.TimeFilter}
     * at read time for the full Q. In {@link RunMode#SIMPLE} every bucket is group 0 with scope
     * {@link Group0Scope#ALL}; a missing, inactive or deleted group gives an empty list.
     */
    List<AccountCard> loadBucket(Bucket bucket, RunMode runMode, Group0Scope group0Scope);

    /**
     * Cards of the accounts among {@code ids} that exist and are not soft-deleted, whatever their
     * status; absent ids are missing from the map.
     */
    Map<Long, AccountCard> loadCards(Collection<Long> ids);

    /**
     * Streams the card of every account that exists and is not soft-deleted, whatever its status, in
     * id order, to {@code sink}: what a full rebuild writes, so that accounts in no bucket get their
     * card corrected too. Implementations read from one snapshot and do not hold every card in memory
     * at once; an exception thrown by the sink ends the read and propagates unchanged.
     */
    void loadAllCards(Consumer<? super AccountCard> sink);

    /** Active, not deleted groups, by id. */
    List<GroupInfo> activeGroups();

    /** Platforms present in live accounts and groups, sorted. */
    Set<String> platforms();

    /** The database clock. */
    Instant databaseNow();

    /** The outbox of this source. */
    OutboxSource outbox();

    /**
     * Streams the whole scheduling pool to {@code sink} from one read-only database snapshot and
     * returns that snapshot's outbox horizon ({@code pg_snapshot_xmin}), read before any row: every
     * transaction below it had finished before the rows were read, so the pool is exact at the horizon.
     * A few streamed statements, never one per bucket; implementations do not hold the pool in memory.
     *
     * <p>The default composes the other methods and is exact only for sources without concurrent
     * writers (fakes); database sources override it.
     */
    default long loadPool(PoolSink sink) {
        long horizon = outbox().read(Long.MAX_VALUE, Set.of(), null, 1).horizon();
        for (GroupInfo g : activeGroups()) {
            sink.group(g);
        }
        loadAllCards(sink::account);
        return horizon;
    }

    /**
     * Reads, from one read-only database snapshot, what {@link OutboxSource#read} would read with these
     * arguments and the current rows of everything those events name ({@link #namedAccounts},
     * {@link #namedGroups}): accounts by id with their links, groups by id. Applying the rows to a model
     * that was exact before the batch makes it exact at the batch's snapshot for every row the batch
     * names. One round trip per kind of row, never one per bucket.
     *
     * <p>The default reads the rows after the events, in separate statements (so the rows may be newer
     * than the events, which is still safe: a newer row's own event comes later and is applied again);
     * database sources override it with one snapshot.
     */
    default BatchRead readBatch(long watermark, Set<Long> excludedIds, @Nullable OutboxPosition after, int limit) {
        OutboxRead read = outbox().read(watermark, excludedIds, after, limit);
        Set<Long> accounts = namedAccounts(read.events());
        Set<Long> groups = namedGroups(read.events());
        Map<Long, GroupInfo> found = new HashMap<>();
        if (!groups.isEmpty()) {
            for (GroupInfo g : activeGroups()) {
                if (groups.contains(g.id())) {
                    found.put(g.id(), g);
                }
            }
        }
        return new BatchRead(read, accounts.isEmpty() ? Map.of() : loadCards(accounts), found);
    }

    /** The ids of the accounts {@code events} name (account, bulk and link events), ascending; ids &le; 0 left out. */
    static Set<Long> namedAccounts(List<OutboxEvent> events) {
        Set<Long> out = new TreeSet<>();
        for (OutboxEvent e : events) {
            switch (e) {
                case OutboxEvent.AccountChanged a -> out.add(a.accountId());
                case OutboxEvent.AccountBulkChanged a -> out.addAll(a.accountIds());
                case OutboxEvent.AccountGroupsChanged a -> out.addAll(a.accountIds());
                default -> {}
            }
        }
        out.removeIf(id -> id <= 0);
        return out;
    }

    /** The ids of the groups {@code events} name (group events), ascending; ids &le; 0 left out. */
    static Set<Long> namedGroups(List<OutboxEvent> events) {
        Set<Long> out = new TreeSet<>();
        for (OutboxEvent e : events) {
            if (e instanceof OutboxEvent.GroupChanged g) {
                out.addAll(g.groupIds());
            }
        }
        out.removeIf(id -> id <= 0);
        return out;
    }
}
