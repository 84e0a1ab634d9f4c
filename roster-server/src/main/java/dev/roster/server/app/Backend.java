package dev.roster.server.app;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.audit.AuditReport;
import dev.roster.core.audit.ServingReport;
import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.outbox.OutboxStats;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.selection.Outcome;
import dev.roster.core.selection.ReportResult;
import dev.roster.core.selection.SelectRequest;
import dev.roster.core.selection.Selection;
import dev.roster.core.selection.SelectionCounters;
import dev.roster.core.selection.SlotLease;
import dev.roster.core.selection.WaitTicket;
import dev.roster.core.service.ListResult;
import dev.roster.core.status.PoolStatus;
import dev.roster.core.watch.AnswerListener;
import dev.roster.core.watch.Watch;
import dev.roster.postgres.AccountAdmin;
import dev.roster.postgres.DeadLetterRepository.DeadLetter;
import dev.roster.postgres.GroupAdmin;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What the HTTP API and the command line need from a running Roster. The server never wires the
 * snapshot service, PostgreSQL or Redis itself beyond the one implementation of this interface, so the
 * HTTP layer stays independent of how the library is assembled.
 */
public interface Backend extends AutoCloseable {

    /**
     * Whether requests can be served, and why not.
     *
     * @param ready whether the projection was verified or rebuilt and the stores are reachable
     * @param reason why not ({@code ""} when ready)
     */
    record Readiness(boolean ready, String reason) {}

    /** Readiness now. */
    Readiness readiness();

    /** The hot path: see {@code SnapshotService.list}. */
    ListResult list(Long groupId, String platform, boolean forcePlatform, Duration budget);

    /** One account's card, or empty. */
    Optional<AccountCard> getAccount(long accountId, Duration budget);

    /** Last-used instants of {@code ids} (absent when never used or unknown). */
    Map<Long, Instant> lastUsed(Collection<Long> ids);

    /** Records a use of {@code accountId} at {@code at} (monotonic). */
    void markUsed(long accountId, Instant at);

    /** The application clock. */
    Instant now();

    /**
     * Tells {@code listener} when the answers of {@code buckets} change; see {@code Roster.watch}.
     *
     * @throws IllegalArgumentException when a bucket is not answered under its name
     */
    Watch watch(Collection<Bucket> buckets, AnswerListener listener);

    /** Account selection: see {@code Roster.select}, bounded by {@code budget}. */
    Selection select(SelectRequest request, Duration budget);

    /** Frees a slot by account id and token (idempotent); whether it was still held. */
    boolean release(long accountId, String token);

    /** Hands a wait ticket back (idempotent); whether it was still live. */
    boolean release(WaitTicket ticket);

    /** Extends a held slot by {@code selection.slot_lease_ttl}; whether it was still held. */
    boolean renew(SlotLease lease);

    /** Records what the upstream answered for an account (cooldowns only extend). */
    default ReportResult report(long accountId, Outcome outcome) {
        return report(accountId, outcome, null);
    }

    /** {@link #report(long, Outcome)} with the call's time-to-first-token ({@code null}: unknown). */
    ReportResult report(long accountId, Outcome outcome, @Nullable Duration ttft);

    /** This instance's selection counters, for {@code /metrics}. */
    SelectionCounters selectionCounters();

    /** Audits the projection against PostgreSQL. */
    AuditReport audit();

    /** Compares what every live instance's near cache serves with the projection. */
    ServingReport servingAudit();

    /**
     * Requests a full rebuild and waits up to {@code timeout} for a run that started after the request.
     *
     * @return whether that run finished within the timeout (it goes on otherwise)
     */
    boolean rebuildAll(Duration timeout);

    /** Rebuilds one bucket now; {@code false} when it was retired (its group is not active). */
    boolean rebuildBucket(Bucket bucket);

    /**
     * Outbox figures for operators.
     *
     * @param stats pending, lag, horizon
     * @param watermark the shared watermark
     * @param deadLetters dead letters in the table
     * @param replayer whether this instance holds the replayer lease
     */
    record OutboxStatus(OutboxStats stats, long watermark, long deadLetters, boolean replayer) {}

    /** The outbox's state. */
    OutboxStatus outbox();

    /** Dead letters, oldest first. */
    List<DeadLetter> deadLetters(int limit);

    /**
     * Retries dead letter {@code eventId}: removes it and requests the full rebuild that brings its
     * change into the snapshots; {@code false} when there is none.
     */
    boolean retryDeadLetter(long eventId);

    /** Buckets registered in the projection. */
    Set<Bucket> buckets();

    /** Account administration (the admin API's account routes). */
    AccountAdmin accounts();

    /** Group administration (the admin API's group routes). */
    GroupAdmin groups();

    /** The pool as the status page reads it. */
    PoolStatus pool();

    /** The bucket's active snapshot in the projection (one Redis read), or empty when none is active. */
    Optional<Snapshot> snapshot(Bucket bucket);

    /** The scheduling settings in effect (the status page draws the lag and backlog thresholds). */
    SchedulingConfig scheduling();

    /** One round trip to Redis (reads the watermark); throws when it cannot be reached. */
    void pingRedis();

    /** Counters for {@code /metrics}. */
    Stats stats();

    /**
     * Monotonic counters and gauges of the service (bounded: no per-bucket or per-account series).
     *
     * @param fallbackQueries database fallback queries run
     * @param replayApplied events applied by the replayer
     * @param deadLettered events dead-lettered
     * @param bucketRebuilds bucket rebuilds by the replayer
     * @param fullRebuilds full rebuild runs
     * @param fullRebuildFailures failed full rebuild runs
     */
    record Stats(
            long fallbackQueries,
            long replayApplied,
            long deadLettered,
            long bucketRebuilds,
            long fullRebuilds,
            long fullRebuildFailures) {}

    /** Flushes last-used, releases leases, stops background work. */
    @Override
    void close();
}
