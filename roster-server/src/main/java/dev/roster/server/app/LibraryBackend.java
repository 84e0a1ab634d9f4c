package dev.roster.server.app;

import dev.roster.Roster;
import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.audit.AuditReport;
import dev.roster.core.audit.ServingReport;
import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.outbox.OutboxStats;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.selection.Outcome;
import dev.roster.core.selection.ReportResult;
import dev.roster.core.selection.SelectRequest;
import dev.roster.core.selection.Selection;
import dev.roster.core.selection.SelectionCounters;
import dev.roster.core.selection.SlotLease;
import dev.roster.core.selection.WaitTicket;
import dev.roster.core.service.ListResult;
import dev.roster.core.service.SnapshotService;
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
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/** The {@link Backend} over the library's started {@link Roster}: no wiring of its own. */
public final class LibraryBackend implements Backend {
    private final Roster roster;

    /** Wraps a started Roster (closed by {@link #close()}). */
    public LibraryBackend(Roster roster) {
        this.roster = Objects.requireNonNull(roster, "roster");
    }

    /** The library object (the demo reads its admin view). */
    public Roster roster() {
        return roster;
    }

    @Override
    public Readiness readiness() {
        return roster.ready()
                ? new Readiness(true, "")
                : new Readiness(false, "the initial rebuild of the projection has not finished");
    }

    @Override
    public ListResult list(Long groupId, String platform, boolean forcePlatform, Duration budget) {
        return roster.list(groupId, platform, forcePlatform, budget);
    }

    @Override
    public Optional<AccountCard> getAccount(long accountId, Duration budget) {
        return roster.getAccount(accountId, budget);
    }

    @Override
    public Map<Long, Instant> lastUsed(Collection<Long> ids) {
        return roster.lastUsed(ids);
    }

    @Override
    public void markUsed(long accountId, Instant at) {
        roster.markUsed(accountId, at);
    }

    @Override
    public Instant now() {
        return roster.now();
    }

    @Override
    public Watch watch(Collection<Bucket> buckets, AnswerListener listener) {
        return roster.watch(buckets, listener);
    }

    @Override
    public Selection select(SelectRequest request, Duration budget) {
        return roster.select(request, budget);
    }

    @Override
    public boolean release(long accountId, String token) {
        return roster.release(accountId, token);
    }

    @Override
    public boolean release(WaitTicket ticket) {
        return roster.release(ticket);
    }

    @Override
    public boolean renew(SlotLease lease) {
        return roster.renew(lease);
    }

    @Override
    public ReportResult report(long accountId, Outcome outcome, @Nullable Duration ttft) {
        return roster.report(accountId, outcome, ttft);
    }

    @Override
    public SelectionCounters selectionCounters() {
        return roster.selectionCounters();
    }

    @Override
    public AuditReport audit() {
        return roster.audit();
    }

    @Override
    public ServingReport servingAudit() {
        return roster.servingAudit();
    }

    @Override
    public boolean rebuildAll(Duration timeout) {
        try {
            roster.admin().rebuildAll().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof RuntimeException r ? r : new IllegalStateException("full rebuild failed", c);
        }
    }

    @Override
    public boolean rebuildBucket(Bucket bucket) {
        return roster.admin().rebuildBucket(bucket);
    }

    @Override
    public OutboxStatus outbox() {
        OutboxStats s = roster.admin().outbox();
        return new OutboxStatus(
                s,
                s.watermark(),
                roster.admin().deadLetterCount(),
                roster.admin().isReplayer());
    }

    @Override
    public List<DeadLetter> deadLetters(int limit) {
        return roster.admin().deadLetters(limit);
    }

    @Override
    public boolean retryDeadLetter(long eventId) {
        return roster.admin().retryDeadLetter(eventId).isPresent();
    }

    @Override
    public Set<Bucket> buckets() {
        return roster.admin().buckets();
    }

    @Override
    public AccountAdmin accounts() {
        return roster.admin().accounts();
    }

    @Override
    public GroupAdmin groups() {
        return roster.admin().groups();
    }

    @Override
    public PoolStatus pool() {
        return roster.admin().pool();
    }

    @Override
    public Optional<Snapshot> snapshot(Bucket bucket) {
        return roster.projection().readSnapshot(bucket) instanceof Lookup.Hit<Snapshot> h
                ? Optional.of(h.found())
                : Optional.empty();
    }

    @Override
    public SchedulingConfig scheduling() {
        return roster.config().scheduling();
    }

    @Override
    public void pingRedis() {
        roster.projection().watermark();
    }

    @Override
    public Stats stats() {
        SnapshotService s = roster.service();
        return new Stats(
                s.fallbackQueries(),
                s.replayer().applied(),
                s.replayer().deadLettered(),
                s.replayer().bucketRebuilds(),
                s.rebuilder().runs(),
                s.rebuilder().failures());
    }

    @Override
    public void close() {
        roster.close();
    }
}
