package dev.roster.core.selection;

import dev.roster.core.AccountCard;
import dev.roster.core.service.ListResult;
import java.time.Duration;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Where the selector reads candidates: a bucket's schedulable accounts, time filter applied, in the
 * bucket query's order, and single cards. The snapshot service satisfies it as it is ({@code
 * SnapshotService::list} and {@code ::getAccount}); errors of the service (not ready, fallback limited,
 * store unavailable) pass through {@link Selector#select} unchanged.
 */
public interface CandidateSource {

    /**
     * The request's bucket, as {@code SnapshotService.list(groupId, platform, forcePlatform)}.
     *
     * @param groupId the API key's group, or {@code null}
     * @param platform the request's platform
     * @param forcePlatform whether the route pins the platform
     */
    ListResult list(@Nullable Long groupId, String platform, boolean forcePlatform);

    /**
     * {@link #list(Long, String, boolean)} bounded by the caller's time budget (the database fallback
     * gives up when it is spent). Sources without a budget-aware path ignore it.
     *
     * @param budget how long the listing may take, or {@code null} for the source's own bound
     */
    default ListResult list(@Nullable Long groupId, String platform, boolean forcePlatform, @Nullable Duration budget) {
        return list(groupId, platform, forcePlatform);
    }

    /** One account's card whatever its schedulability, or empty when the account does not exist. */
    Optional<AccountCard> getAccount(long accountId);
}
