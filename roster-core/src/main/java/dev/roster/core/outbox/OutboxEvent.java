package dev.roster.core.outbox;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * One row of the scheduler outbox, decoded. Every case carries the row's id, the id of the
 * transaction that wrote it ({@code xid8} as a long) and its creation time (database clock). Id
 * lists are sorted ascending without duplicates.
 *
 * <p>A row whose type is not known is {@link Unknown} (treated as handled); a row of a known type
 * whose columns or payload do not fit that type is {@link Malformed}, naming why, so one bad row
 * never fails the batch it arrives in.
 */
public sealed interface OutboxEvent
        permits OutboxEvent.AccountChanged,
                OutboxEvent.AccountBulkChanged,
                OutboxEvent.AccountGroupsChanged,
                OutboxEvent.GroupChanged,
                OutboxEvent.FullRebuild,
                OutboxEvent.AccountLastUsed,
                OutboxEvent.Unknown,
                OutboxEvent.Malformed {

    /** Event type text of {@link AccountChanged}. */
    String ACCOUNT_CHANGED = "account_changed";
    /** Event type text of {@link AccountBulkChanged}. */
    String ACCOUNT_BULK_CHANGED = "account_bulk_changed";
    /** Event type text of {@link AccountGroupsChanged}. */
    String ACCOUNT_GROUPS_CHANGED = "account_groups_changed";
    /** Event type text of {@link GroupChanged}. */
    String GROUP_CHANGED = "group_changed";
    /** Event type text of {@link FullRebuild}. */
    String FULL_REBUILD = "full_rebuild";
    /** Event type text of {@link AccountLastUsed}. */
    String ACCOUNT_LAST_USED = "account_last_used";

    /** The outbox row id. */
    long id();

    /** The id of the transaction that wrote the row. */
    long txid();

    /** When the row was written (database clock). */
    Instant createdAt();

    /** The row's position in reading order. */
    default OutboxPosition position() {
        return new OutboxPosition(txid(), id());
    }

    /**
     * One account changed in a way the bucket query or its card sees.
     *
     * @param accountId the account
     * @param groupIds its groups before and after the change (union)
     * @param platforms the platforms the change moved it between (old and new platform when it changed,
     *     the old one when it was deleted, none otherwise; sorted), or {@code null} when
     *     the writer did not say (rows from before schema version 3, other writers): then any platform
     *     may have been left, and consumers must assume every one was
     */
    record AccountChanged(
            long id,
            long txid,
            Instant createdAt,
            long accountId,
            List<Long> groupIds,
            @Nullable List<String> platforms)
            implements OutboxEvent {
        public AccountChanged {
            Objects.requireNonNull(createdAt, "createdAt");
            groupIds = sortedIds(groupIds);
            platforms = sortedNames(platforms);
        }

        /** An event that does not name platforms (see {@link #platforms()}). */
        public AccountChanged(long id, long txid, Instant createdAt, long accountId, List<Long> groupIds) {
            this(id, txid, createdAt, accountId, groupIds, null);
        }
    }

    /**
     * One statement changed several accounts.
     *
     * @param accountIds the changed accounts
     * @param groupIds every group those accounts belong to
     * @param platforms every platform the statement moved those accounts between (as for {@link
     *     AccountChanged#platforms()}, sorted), or
     *     {@code null} when the writer did not say (as for {@link AccountChanged#platforms()})
     */
    record AccountBulkChanged(
            long id,
            long txid,
            Instant createdAt,
            List<Long> accountIds,
            List<Long> groupIds,
            @Nullable List<String> platforms)
            implements OutboxEvent {
        public AccountBulkChanged {
            Objects.requireNonNull(createdAt, "createdAt");
            accountIds = sortedIds(accountIds);
            groupIds = sortedIds(groupIds);
            platforms = sortedNames(platforms);
        }

        /** An event that does not name platforms (see {@link #platforms()}). */
        public AccountBulkChanged(long id, long txid, Instant createdAt, List<Long> accountIds, List<Long> groupIds) {
            this(id, txid, createdAt, accountIds, groupIds, null);
        }
    }

    /**
     * Group links were added, removed or re-prioritised.
     *
     * @param accountIds the accounts whose links changed
     * @param groupIds the groups of those links (old and new)
     */
    record AccountGroupsChanged(long id, long txid, Instant createdAt, List<Long> accountIds, List<Long> groupIds)
            implements OutboxEvent {
        public AccountGroupsChanged {
            Objects.requireNonNull(createdAt, "createdAt");
            accountIds = sortedIds(accountIds);
            groupIds = sortedIds(groupIds);
        }
    }

    /**
     * Groups were created, deleted, or changed status or platform.
     *
     * @param groupIds the groups
     */
    record GroupChanged(long id, long txid, Instant createdAt, List<Long> groupIds) implements OutboxEvent {
        public GroupChanged {
            Objects.requireNonNull(createdAt, "createdAt");
            groupIds = sortedIds(groupIds);
        }
    }

    /**
     * Another writer asks for a full rebuild.
     *
     * @param refreshAccountMetadata the derived variant's flag ({@code refresh_account_metadata})
     */
    record FullRebuild(long id, long txid, Instant createdAt, boolean refreshAccountMetadata) implements OutboxEvent {
        public FullRebuild {
            Objects.requireNonNull(createdAt, "createdAt");
        }
    }

    /**
     * Last-used times written by another writer ({@code {"last_used":{"<id>":<unix seconds>}}}).
     *
     * @param lastUsed account id to last-used instant, sorted by id
     */
    record AccountLastUsed(long id, long txid, Instant createdAt, Map<Long, Instant> lastUsed) implements OutboxEvent {
        public AccountLastUsed {
            Objects.requireNonNull(createdAt, "createdAt");
            lastUsed = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(lastUsed));
        }
    }

    /**
     * A row whose type Roster does not know; consumers treat it as handled.
     *
     * @param eventType the row's type
     */
    record Unknown(long id, long txid, Instant createdAt, String eventType) implements OutboxEvent {
        public Unknown {
            Objects.requireNonNull(createdAt, "createdAt");
            Objects.requireNonNull(eventType, "eventType");
        }
    }

    /**
     * A row of a known type that could not be decoded.
     *
     * @param eventType the row's type
     * @param reason what is wrong with it, in words
     * @param payload the payload text as stored (never a credential: outbox rows hold ids), or
     *     {@code null}
     */
    record Malformed(
            long id,
            long txid,
            Instant createdAt,
            String eventType,
            @Nullable String reason,
            String payload) implements OutboxEvent {
        public Malformed {
            Objects.requireNonNull(createdAt, "createdAt");
            Objects.requireNonNull(eventType, "eventType");
            Objects.requireNonNull(reason, "reason");
        }
    }

    private static List<Long> sortedIds(List<Long> ids) {
        return ids == null ? List.of() : List.copyOf(new TreeSet<>(ids));
    }

    /** Null stays null: "not stated" differs from "none". */
    private static @Nullable List<String> sortedNames(@Nullable List<String> names) {
        return names == null ? null : List.copyOf(new TreeSet<>(names));
    }
}
