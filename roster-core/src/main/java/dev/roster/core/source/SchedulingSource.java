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

    /** Active, not deleted groups, by id. */
    List<GroupInfo> activeGroups();

    /** Platforms present in live accounts and groups, sorted. */
    Set<String> platforms();

    /** The database clock. */
    Instant databaseNow();

    /** The outbox of this source. */
    OutboxSource outbox();
}
