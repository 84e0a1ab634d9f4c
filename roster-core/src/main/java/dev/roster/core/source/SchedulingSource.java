package dev.roster.core.source;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Group0Scope;
import dev.roster.core.RunMode;
import dev.roster.core.outbox.OutboxSource;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The source of truth as the snapshot service reads it. Cards never carry credentials. Every method
 * reads committed state and throws {@link SourceException} when the store cannot be read.
 */
public interface SchedulingSource {

    /**
     * The durable part of the bucket query Q (design §1) for {@code bucket}, in Q's order: link
     * priority (group &gt; 0), account priority, account id. Apply {@link dev.roster.core.TimeFilter}
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
}
