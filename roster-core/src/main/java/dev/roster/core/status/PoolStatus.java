package dev.roster.core.status;

import dev.roster.core.AccountLimits;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What an operator's status page reads from the source of truth: accounts with every field that decides
 * whether they can be scheduled now, filtered and counted, and the platforms and groups the filters
 * offer. Read-only; never returns credentials.
 *
 * <p>Errors: {@link IllegalArgumentException} for a filter outside its rules (an unknown state), {@link
 * dev.roster.core.source.SourceException} when the source cannot be read. Implementations are
 * thread-safe.
 */
public interface PoolStatus {

    /** State filters of {@link Filter#state()}. */
    Set<String> STATES = Set.of(
            "schedulable",
            "blocked",
            "disabled",
            "inactive",
            "rate_limited",
            "overloaded",
            "temp_unschedulable",
            "expired");

    /**
     * Which accounts to list.
     *
     * @param query name substring (case-insensitive) or exact id; {@code null} for all
     * @param groupId group id; 0 means "in no group"; {@code null} for all
     * @param platform platform; {@code null} for all
     * @param state one of {@link #STATES}, judged at the page's instant; {@code null} for all
     */
    record Filter(
            @Nullable String query,
            @Nullable Long groupId,
            @Nullable String platform,
            @Nullable String state) {}

    /**
     * One account as the status page shows it.
     *
     * @param id id
     * @param name name
     * @param platform platform
     * @param type type
     * @param status status
     * @param schedulable the admin switch
     * @param priority priority
     * @param concurrency slot limit
     * @param rateLimitResetAt rate-limit end
     * @param overloadUntil overload end
     * @param tempUnschedulableUntil temporary block end
     * @param expiresAt expiry
     * @param autoPauseOnExpired whether expiry blocks
     * @param lastUsedAt last use as written behind to the source
     * @param groups linked groups by link priority
     * @param limits RPM cap, weight and quota thresholds
     */
    record Row(
            long id,
            String name,
            String platform,
            String type,
            String status,
            boolean schedulable,
            int priority,
            int concurrency,
            @Nullable Instant rateLimitResetAt,
            @Nullable Instant overloadUntil,
            @Nullable Instant tempUnschedulableUntil,
            @Nullable Instant expiresAt,
            boolean autoPauseOnExpired,
            @Nullable Instant lastUsedAt,
            List<GroupRef> groups,
            @Nullable AccountLimits limits) {

        public Row {
            limits = limits == null ? AccountLimits.DEFAULTS : limits;
        }
    }

    /**
     * A group an account is linked to.
     *
     * @param id group id
     * @param name group name
     */
    record GroupRef(long id, String name) {}

    /**
     * A page of rows and how many accounts match in all.
     *
     * @param total matching accounts
     * @param rows this page, by id
     */
    record Page(long total, List<Row> rows) {}

    /**
     * A live group, for the filters.
     *
     * @param id id
     * @param name name
     * @param platform platform
     * @param status status
     */
    record GroupName(long id, String name, String platform, String status) {}

    /** The live accounts matching {@code filter} at {@code now}, by id, {@code limit} from {@code offset}. */
    Page accounts(Filter filter, Instant now, int offset, int limit);

    /** The platforms of live accounts and groups, sorted. */
    List<String> platforms();

    /** Live groups, by id. */
    List<GroupName> groups();

    /** One round trip to the source; throws {@link dev.roster.core.source.SourceException} when it fails. */
    void ping();
}
