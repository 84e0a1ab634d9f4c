package dev.roster.server.http;

import dev.roster.core.Bucket;
import dev.roster.core.audit.AuditReport;
import dev.roster.core.audit.Drift;
import dev.roster.core.audit.ServingReport;
import dev.roster.core.outbox.OutboxStats;
import dev.roster.postgres.AccountSpec;
import dev.roster.postgres.DeadLetterRepository.DeadLetter;
import dev.roster.server.app.AdminStore;
import dev.roster.server.app.Backend;
import dev.roster.server.http.Route.Access;
import dev.roster.server.http.Route.Param;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** The admin API {@code /admin/*}, always behind {@code server.admin_token}. */
final class AdminRoutes {
    private final Supplier<Backend> backend;
    private final Consumer<AuditReport> audited;

    AdminRoutes(Supplier<Backend> backend, Consumer<AuditReport> audited) {
        this.backend = backend;
        this.audited = audited;
    }

    /** Body of account create and replace. Omitted credentials on replace keep the stored ones. */
    record AccountIn(
            String name,
            String platform,
            String type,
            String status,
            Boolean schedulable,
            Integer priority,
            Integer concurrency,
            Map<String, Object> credentials,
            Map<String, Object> extra,
            Instant expiresAt,
            Boolean autoPauseOnExpired,
            Instant rateLimitResetAt,
            Instant overloadUntil,
            Instant tempUnschedulableUntil,
            List<LinkIn> groups) {

        AccountSpec spec() {
            return new AccountSpec(
                    name,
                    platform,
                    type,
                    status == null ? "active" : status,
                    schedulable == null || schedulable,
                    priority == null ? 50 : priority,
                    concurrency == null ? 3 : concurrency,
                    credentials,
                    extra,
                    expiresAt,
                    autoPauseOnExpired != null && autoPauseOnExpired);
        }

        AdminStore.Blocks blocks() {
            return new AdminStore.Blocks(rateLimitResetAt, overloadUntil, tempUnschedulableUntil);
        }
    }

    /** A link in a request: group id and priority (default 1). */
    record LinkIn(Long id, Integer priority) {
        AdminStore.Link link() {
            if (id == null) {
                throw ApiError.badRequest("every group link needs an id");
            }
            return new AdminStore.Link(id, priority == null ? 1 : priority);
        }
    }

    /** Body of {@code PUT /admin/accounts/{id}/groups}. */
    record GroupsIn(List<LinkIn> groups) {}

    /** Body of group create and replace. */
    record GroupIn(String name, String platform, String status) {}

    /** Body of {@code POST /admin/rebuild}: a bucket {@code g:p:m}, or {@code all: true}. */
    record RebuildIn(String bucket, Boolean all) {}

    record Page<T>(List<T> items, Long nextAfter) {}

    record Deleted(long id, boolean deleted) {}

    record Rebuilt(String target, String outcome) {}

    record Outbox(
            long watermark,
            long horizon,
            long pending,
            Instant oldestPendingAt,
            Double lagSeconds,
            Double horizonAgeSeconds,
            Integer horizonHolderPid,
            long deadLetters,
            boolean replayer,
            Instant databaseNow) {}

    record DeadLetterOut(
            long eventId,
            String eventType,
            Long accountId,
            Long groupId,
            String payload,
            String error,
            int attempts,
            Instant eventCreatedAt,
            Instant firstFailedAt,
            Instant lastFailedAt) {
        static DeadLetterOut of(DeadLetter d) {
            return new DeadLetterOut(
                    d.eventId(),
                    d.eventType(),
                    d.accountId(),
                    d.groupId(),
                    d.payload(),
                    d.error(),
                    d.attempts(),
                    d.eventCreatedAt(),
                    d.firstFailedAt(),
                    d.lastFailedAt());
        }
    }

    record Retried(long eventId, boolean requeued) {}

    record Buckets(List<String> buckets) {}

    /** The serving audit: ids, buckets, versions and checksums only, never card content. */
    record Serving(boolean clean, int instances, int checked, List<ServingOut> stale, List<ServingOut> behind) {
        static Serving of(ServingReport r) {
            return new Serving(
                    r.clean(),
                    r.instances(),
                    r.checked(),
                    r.stale().stream().map(ServingOut::of).toList(),
                    r.behind().stream().map(ServingOut::of).toList());
        }
    }

    record ServingOut(String instance, Instant reportedAt, String bucket, String kind, String served, String stored) {
        static ServingOut of(ServingReport.Finding f) {
            return new ServingOut(
                    f.instanceId(),
                    f.reportedAt(),
                    f.bucket().text(),
                    f.kind().name().toLowerCase(java.util.Locale.ROOT),
                    f.served(),
                    f.stored());
        }
    }

    record DriftOut(String bucket, String kind, List<Long> expected, List<Long> actual, String detail) {}

    record Audit(
            boolean clean,
            int checked,
            List<DriftOut> drift,
            List<String> unstable,
            List<String> missing,
            List<String> staleGeneration,
            Serving serving) {
        static Audit of(AuditReport r, ServingReport sr) {
            return new Audit(
                    r.clean() && sr.clean(),
                    r.checked(),
                    r.drifts().stream()
                            .map(d -> new DriftOut(d.bucket().text(), kind(d), d.expected(), d.actual(), d.detail()))
                            .toList(),
                    texts(r.unstable()),
                    texts(r.missing()),
                    texts(r.staleGeneration()),
                    Serving.of(sr));
        }

        private static String kind(Drift d) {
            return d.kind().name().toLowerCase(java.util.Locale.ROOT);
        }

        private static List<String> texts(List<Bucket> b) {
            return b.stream().map(Bucket::text).toList();
        }
    }

    private AdminStore store() {
        return new AdminStore(backend.get().dataSource());
    }

    void register(List<Route> routes) {
        List<Param> paging = List.of(
                new Param("after", "integer", false, "return ids above this one (default 0)"),
                new Param("limit", "integer", false, "page size 1..500 (default 100)"),
                new Param("include_deleted", "boolean", false, "also soft-deleted rows (default false)"));
        String accountBody = "{name, platform, type, status?, schedulable?, priority?, concurrency?, credentials?,"
                + " extra?, expires_at?, auto_pause_on_expired?, rate_limit_reset_at?, overload_until?,"
                + " temp_unschedulable_until?, groups?: [{id, priority}]}; credentials are stored, never returned";
        routes.add(new Route("GET", "/admin/accounts", Access.ADMIN, "Accounts, paged by id", paging, null, c -> {
            int limit = c.queryInt("limit", 100, 1, 500);
            List<AdminStore.Account> page = store().accounts(after(c), limit, c.queryBool("include_deleted", false));
            return new Page<>(page, page.size() == limit ? page.getLast().id() : null);
        }));
        routes.add(new Route(
                "POST", "/admin/accounts", Access.ADMIN, "Creates an account", List.of(), accountBody, c -> {
                    AccountIn in = c.body(AccountIn.class);
                    c.status(201);
                    return store().createAccount(in.spec(), in.blocks(), links(in.groups()));
                }));
        routes.add(new Route(
                "GET", "/admin/accounts/{id}", Access.ADMIN, "One account (no credentials)", List.of(), null, c -> {
                    long id = c.positivePathId("id");
                    return store().account(id).orElseThrow(() -> ApiError.notFound("account " + id + " not found"));
                }));
        routes.add(new Route(
                "PUT",
                "/admin/accounts/{id}",
                Access.ADMIN,
                "Replaces an account's fields (omitted credentials are kept; links only when groups is given)",
                List.of(),
                accountBody,
                c -> {
                    long id = c.positivePathId("id");
                    AccountIn in = c.body(AccountIn.class);
                    AdminStore s = store();
                    AdminStore.Account a = s.updateAccount(id, in.spec(), in.blocks(), in.credentials() == null)
                            .orElseThrow(() -> ApiError.notFound("account " + id + " not found or deleted"));
                    if (in.groups() != null) {
                        a = s.setGroups(id, links(in.groups())).orElseThrow();
                    }
                    return a;
                }));
        routes.add(new Route(
                "DELETE", "/admin/accounts/{id}", Access.ADMIN, "Soft-deletes an account", List.of(), null, c -> {
                    long id = c.positivePathId("id");
                    if (!store().deleteAccount(id)) {
                        throw ApiError.notFound("account " + id + " not found or already deleted");
                    }
                    return new Deleted(id, true);
                }));
        routes.add(new Route(
                "PUT",
                "/admin/accounts/{id}/groups",
                Access.ADMIN,
                "Replaces the account's group links with these priorities",
                List.of(),
                "{groups: [{id, priority}]}",
                c -> {
                    long id = c.positivePathId("id");
                    GroupsIn in = c.body(GroupsIn.class);
                    if (in.groups() == null) {
                        throw ApiError.badRequest("field groups is required (an empty list removes every link)");
                    }
                    return store().setGroups(id, links(in.groups()))
                            .orElseThrow(() -> ApiError.notFound("account " + id + " not found or deleted"));
                }));
        routes.add(new Route("GET", "/admin/groups", Access.ADMIN, "Groups, paged by id", paging, null, c -> {
            int limit = c.queryInt("limit", 100, 1, 500);
            List<AdminStore.Group> page = store().groups(after(c), limit, c.queryBool("include_deleted", false));
            return new Page<>(page, page.size() == limit ? page.getLast().id() : null);
        }));
        routes.add(new Route(
                "POST", "/admin/groups", Access.ADMIN, "Creates a group", List.of(), "{name, platform, status?}", c -> {
                    GroupIn in = c.body(GroupIn.class);
                    c.status(201);
                    return store().createGroup(in.name(), in.platform(), in.status() == null ? "active" : in.status());
                }));
        routes.add(new Route("GET", "/admin/groups/{id}", Access.ADMIN, "One group", List.of(), null, c -> {
            long id = c.positivePathId("id");
            return store().group(id).orElseThrow(() -> ApiError.notFound("group " + id + " not found"));
        }));
        routes.add(new Route(
                "PUT",
                "/admin/groups/{id}",
                Access.ADMIN,
                "Replaces a group's name, platform and status",
                List.of(),
                "{name, platform, status?}",
                c -> {
                    long id = c.positivePathId("id");
                    GroupIn in = c.body(GroupIn.class);
                    return store().updateGroup(
                                    id, in.name(), in.platform(), in.status() == null ? "active" : in.status())
                            .orElseThrow(() -> ApiError.notFound("group " + id + " not found or deleted"));
                }));
        routes.add(new Route(
                "DELETE", "/admin/groups/{id}", Access.ADMIN, "Soft-deletes a group", List.of(), null, c -> {
                    long id = c.positivePathId("id");
                    if (!store().deleteGroup(id)) {
                        throw ApiError.notFound("group " + id + " not found or already deleted");
                    }
                    return new Deleted(id, true);
                }));
        routes.add(new Route(
                "POST",
                "/admin/rebuild",
                Access.ADMIN,
                "Rebuilds one bucket ({bucket: \"g:p:m\"}) or everything ({all: true}, the default)",
                List.of(),
                "{bucket?: \"g:p:m\", all?: true}",
                c -> {
                    byte[] raw = c.rawBody();
                    RebuildIn in = raw.length == 0 ? new RebuildIn(null, true) : c.bodyOf(raw, RebuildIn.class);
                    if (in.bucket() != null && Boolean.TRUE.equals(in.all())) {
                        throw ApiError.badRequest("give either bucket or all, not both");
                    }
                    if (in.bucket() != null) {
                        Bucket b;
                        try {
                            b = Bucket.parse(in.bucket());
                        } catch (IllegalArgumentException e) {
                            throw ApiError.badRequest(
                                    "bucket must be g:p:m, e.g. 0:anthropic:mixed; " + e.getMessage());
                        }
                        boolean current = backend.get().rebuildBucket(b);
                        return new Rebuilt(b.text(), current ? "rebuilt" : "retired");
                    }
                    if (backend.get().rebuildAll(c.budget())) {
                        return new Rebuilt("all", "rebuilt");
                    }
                    // Still running after the request's budget: accepted, it completes in the background.
                    c.status(202);
                    return new Rebuilt("all", "running");
                }));
        routes.add(new Route(
                "GET",
                "/admin/outbox",
                Access.ADMIN,
                "Watermark, pending events, lag, horizon and dead letters",
                List.of(),
                null,
                c -> outboxOf(backend.get().outbox())));
        routes.add(new Route(
                "GET",
                "/admin/outbox/dead-letters",
                Access.ADMIN,
                "Dead-lettered events, oldest first",
                List.of(new Param("limit", "integer", false, "1..1000 (default 100)")),
                null,
                c -> Map.of(
                        "dead_letters",
                        backend.get().deadLetters(c.queryInt("limit", 100, 1, 1000)).stream()
                                .map(DeadLetterOut::of)
                                .toList())));
        routes.add(new Route(
                "POST",
                "/admin/outbox/dead-letters/{id}/retry",
                Access.ADMIN,
                "Puts a dead-lettered event back into the outbox",
                List.of(),
                null,
                c -> {
                    long id = c.positivePathId("id");
                    if (!backend.get().retryDeadLetter(id)) {
                        throw ApiError.notFound("no dead letter for event " + id);
                    }
                    return new Retried(id, true);
                }));
        routes.add(new Route(
                "GET",
                "/admin/buckets",
                Access.ADMIN,
                "Buckets registered in the projection",
                List.of(),
                null,
                c -> new Buckets(backend.get().buckets().stream()
                        .sorted()
                        .map(Bucket::text)
                        .toList())));
        routes.add(new Route(
                "GET",
                "/admin/audit",
                Access.ADMIN,
                "Audits every registered bucket against PostgreSQL, and what every live instance's near cache"
                        + " serves against Redis (clean is false when drift or stale serving was found)",
                List.of(),
                null,
                c -> {
                    Backend b = backend.get();
                    AuditReport r = b.audit();
                    audited.accept(r); // the status page shows drift from the latest audit
                    return Audit.of(r, b.servingAudit());
                }));
    }

    /** The outbox figures as JSON (also the status page's). */
    static Outbox outboxOf(Backend.OutboxStatus o) {
        OutboxStats s = o.stats();
        return new Outbox(
                o.watermark(),
                s.horizon(),
                s.pending(),
                s.oldestPendingAt(),
                s.lag() == null ? null : s.lag().toMillis() / 1000.0,
                s.horizonAge() == null ? null : s.horizonAge().toMillis() / 1000.0,
                s.horizonHolderPid(),
                o.deadLetters(),
                o.replayer(),
                s.databaseNow());
    }

    private static long after(Call c) {
        Long a = c.queryId("after");
        return a == null ? 0 : a;
    }

    private static List<AdminStore.Link> links(List<LinkIn> in) {
        return in == null ? List.of() : in.stream().map(LinkIn::link).toList();
    }
}
