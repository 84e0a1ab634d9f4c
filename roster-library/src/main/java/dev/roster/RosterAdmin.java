package dev.roster;

import dev.roster.core.Bucket;
import dev.roster.core.audit.AuditReport;
import dev.roster.core.audit.ServingReport;
import dev.roster.core.nearcache.NearCache;
import dev.roster.core.outbox.OutboxStats;
import dev.roster.core.projection.Projection;
import dev.roster.core.service.SnapshotService;
import dev.roster.core.status.PoolStatus;
import dev.roster.postgres.AccountAdmin;
import dev.roster.postgres.DeadLetterRepository;
import dev.roster.postgres.GroupAdmin;
import dev.roster.postgres.PostgresPoolStatus;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;

/**
 * What an admin server (or a CLI) needs from a running {@link Roster}, without reaching into its
 * parts: account and group administration ({@link #accounts()}, {@link #groups()}), the pool as a
 * status page shows it ({@link #pool()}), outbox health, dead letters and their retry, the registered
 * buckets, rebuilds, the audit and this instance's near-cache and fallback figures. Obtained from
 * {@link Roster#admin()}; valid until the Roster is closed. Account and group writes are plain
 * statements the capture triggers bring into the snapshots, like any other client's writes; the HTTP
 * admin API is a thin layer over these same objects.
 *
 * <p>Thread-safe.
 */
public final class RosterAdmin {
    private final SnapshotService service;
    private final Projection projection;
    private final DeadLetterRepository deadLetters;
    private final AccountAdmin accounts;
    private final GroupAdmin groups;
    private final PoolStatus pool;

    RosterAdmin(
            SnapshotService service, Projection projection, DeadLetterRepository deadLetters, DataSource dataSource) {
        this.service = service;
        this.projection = projection;
        this.deadLetters = deadLetters;
        this.accounts = new AccountAdmin(dataSource);
        this.groups = new GroupAdmin(dataSource);
        this.pool = new PostgresPoolStatus(dataSource);
    }

    /**
     * Account administration (pages, create, replace, merge patch, credentials merged by key, links,
     * soft delete), each request in one transaction; see {@link AccountAdmin}.
     */
    public AccountAdmin accounts() {
        return accounts;
    }

    /** Group administration (pages, create, replace, merge patch, soft delete); see {@link GroupAdmin}. */
    public GroupAdmin groups() {
        return groups;
    }

    /** The pool as an operator's status page reads it (filtered, counted pages; platforms; groups). */
    public PoolStatus pool() {
        return pool;
    }

    /** How many dead-lettered outbox events are waiting for an operator. */
    public long deadLetterCount() {
        return deadLetters.count();
    }

    /**
     * Outbox health relative to the replayer's cursor (see {@link SnapshotService#outboxStats()}):
     * horizon, pending events (visible events the replayer has not applied), lag, the transaction
     * holding the horizon back.
     *
     * @throws dev.roster.core.source.SourceException when PostgreSQL cannot be read
     * @throws dev.roster.core.projection.ProjectionUnavailableException when Redis cannot be read
     */
    public OutboxStats outbox() {
        return service.outboxStats();
    }

    /** Up to {@code limit} dead-lettered outbox events, with their error and attempt count. */
    public List<DeadLetterRepository.DeadLetter> deadLetters(int limit) {
        return deadLetters.list(limit);
    }

    /**
     * Retries a dead-lettered event: removes it from the dead-letter table and requests a full rebuild,
     * which brings every change the event described into the snapshots (an event only names what to
     * rebuild; the rebuild reads the current rows). The future completes when that rebuild ends.
     *
     * @return empty when no dead letter has this id
     */
    public Optional<CompletableFuture<Void>> retryDeadLetter(long eventId) {
        if (!deadLetters.remove(eventId)) {
            return Optional.empty();
        }
        return Optional.of(service.requestFullRebuild("dead_letter_retry"));
    }

    /** The buckets registered in the shared projection, sorted. */
    public SortedSet<Bucket> buckets() {
        return new TreeSet<>(projection.buckets());
    }

    /**
     * Rebuilds one bucket now from PostgreSQL (retiring it when its group is no longer active).
     *
     * @return whether the bucket has a current snapshot afterwards ({@code false}: retired)
     */
    public boolean rebuildBucket(Bucket bucket) {
        return service.rebuildBucket(bucket);
    }

    /**
     * Requests a full rebuild (coalesced with one already running; it needs this instance to hold the
     * replayer lease to move the watermark). The future completes when a run that started after the
     * request ends.
     */
    public CompletableFuture<Void> rebuildAll() {
        return service.requestFullRebuild("admin");
    }

    /** Audits Redis against PostgreSQL. */
    public AuditReport audit() {
        return service.audit();
    }

    /**
     * Compares what every live instance's near cache serves (per bucket: generation, version, content
     * checksum) with what Redis holds: the staleness {@link #audit()} cannot see.
     */
    public ServingReport servingAudit() {
        return service.servingAudit();
    }

    /** This instance's near-cache counters, or empty when the near cache is disabled. */
    public Optional<NearCache.Stats> nearCache() {
        return service.nearCache().map(NearCache::stats);
    }

    /** How many database fallback queries this instance ran. */
    public long fallbackQueries() {
        return service.fallbackQueries();
    }

    /** Whether this instance holds the replayer lease (it replays the outbox and runs full rebuilds). */
    public boolean isReplayer() {
        return service.isReplayer();
    }

    /** The generation id this instance serves. */
    public String generation() {
        return service.generation();
    }
}
