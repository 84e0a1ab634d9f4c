package dev.roster.server.http;

import dev.roster.core.Bucket;
import dev.roster.core.audit.AuditReport;
import dev.roster.core.audit.Drift;
import dev.roster.core.audit.ServingReport;
import dev.roster.core.outbox.OutboxStats;
import dev.roster.postgres.AccountAdmin;
import dev.roster.postgres.AccountSpec;
import dev.roster.postgres.AccountView;
import dev.roster.postgres.DeadLetterRepository.DeadLetter;
import dev.roster.postgres.GroupAdmin;
import dev.roster.postgres.GroupView;
import dev.roster.server.app.Backend;
import dev.roster.server.http.Route.Access;
import dev.roster.server.http.Route.Param;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/** The admin API {@code /admin/*}, always behind {@code server.admin_token}. */
final class AdminRoutes {
    private final Supplier<Backend> backend;
    private final Consumer<AuditReport> audited;

    AdminRoutes(Supplier<Backend> backend, Consumer<AuditReport> audited) {
        this.backend = backend;
        this.audited = audited;
    }

    /** A link in {@code PUT /admin/accounts/{id}/groups}: group id and priority (default 1). */
    record LinkIn(Long id, Integer priority) {
        AccountView.Link link() {
            if (id == null) {
                throw ApiError.badRequest("every group link needs an id");
            }
            return priority == null ? AccountView.Link.of(id) : new AccountView.Link(id, priority);
        }
    }

    /** Body of {@code PUT /admin/accounts/{id}/groups}. */
    record GroupsIn(List<LinkIn> groups) {}

    /** Body of {@code PUT /admin/accounts/{id}/model-mapping}. */
    record ModelMappingIn(Map<String, Object> modelMapping) {}

    /** Body of {@code POST /admin/rebuild}: a bucket {@code g:p:m}, or {@code all: true}. */
    record RebuildIn(@Nullable String bucket, @Nullable Boolean all) {}

    record Page<T>(List<T> items, @Nullable Long nextAfter) {}

    record Deleted(long id, boolean deleted) {}

    record Rebuilt(String target, String outcome) {}

    record Outbox(
            long watermark,
            long horizon,
            long pending,
            @Nullable Instant oldestPendingAt,
            @Nullable Double lagSeconds,
            @Nullable Double horizonAgeSeconds,
            @Nullable Integer horizonHolderPid,
            long deadLetters,
            boolean replayer,
            Instant databaseNow) {}

    record DeadLetterOut(
            long eventId,
            String eventType,
            @Nullable Long accountId,
            @Nullable Long groupId,
            @Nullable String payload,
            String error,
            int attempts,
            @Nullable Instant eventCreatedAt,
            @Nullable Instant firstFailedAt,
            @Nullable Instant lastFailedAt) {
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

    private AccountAdmin accounts() {
        return backend.get().accounts();
    }

    private GroupAdmin groups() {
        return backend.get().groups();
    }

    void register(List<Route> routes) {
        List<Param> paging = List.of(
                new Param("after", "integer", false, "return ids above this one (default 0)"),
                new Param("limit", "integer", false, "page size 1..500 (default 100)"),
                new Param("include_deleted", "boolean", false, "also soft-deleted rows (default false)"));
        String fields = "name, platform, type, status, schedulable, priority, concurrency, extra (object), expires_at,"
                + " auto_pause_on_expired, rate_limit_reset_at, overload_until, temp_unschedulable_until (RFC 3339"
                + " or null), groups ([{id, priority (default 1)}]), rpm_limit (requests per sliding minute"
                + " 0..1000000, null or 0 unlimited), weight (1..1000, share within the priority tier, default 1),"
                + " quota_threshold_5h, quota_threshold_7d (used-% 1..100 that pauses the account until the window"
                + " resets, null: selection.quota default), credentials (object, write-only: stored, never"
                + " returned, merged into the stored object by key, null deletes a key)";
        routes.add(new Route("GET", "/admin/accounts", Access.ADMIN, "Accounts, paged by id", paging, null, c -> {
            int limit = c.queryInt("limit", 100, 1, 500);
            List<AccountView> page = accounts().page(after(c), limit, c.queryBool("include_deleted", false));
            return new Page<>(page, page.size() == limit ? page.getLast().id() : null);
        }));
        routes.add(new Route(
                "POST",
                "/admin/accounts",
                Access.ADMIN,
                "Creates an account; omitted fields take the defaults (status active, schedulable, priority "
                        + AccountSpec.DEFAULT_PRIORITY + ", concurrency " + AccountSpec.DEFAULT_CONCURRENCY
                        + ", weight 1, no RPM limit, default quota thresholds, no blocks, no links)",
                List.of(),
                "{" + fields + "}; name, platform and type are required",
                c -> {
                    Map<String, Object> body = c.bodyObject();
                    c.status(201);
                    return accounts().create(body);
                }));
        routes.add(new Route(
                "GET", "/admin/accounts/{id}", Access.ADMIN, "One account (no credentials)", List.of(), null, c -> {
                    long id = c.positivePathId("id");
                    return accounts().get(id).orElseThrow(() -> ApiError.notFound("account " + id + " not found"));
                }));
        routes.add(new Route(
                "PUT",
                "/admin/accounts/{id}",
                Access.ADMIN,
                "Replaces the whole account in one transaction: every field but credentials is required (400"
                        + " naming the missing ones); credentials, if given, are merged into the stored ones",
                List.of(),
                "{" + fields + "}; every field but credentials is required",
                c -> {
                    long id = c.positivePathId("id");
                    return accounts()
                            .replace(id, c.bodyObject())
                            .orElseThrow(() -> ApiError.notFound("account " + id + " not found or deleted"));
                }));
        routes.add(new Route(
                "PATCH",
                "/admin/accounts/{id}",
                Access.ADMIN,
                "Changes only the fields given, in one transaction: a JSON merge patch (RFC 7396; null removes,"
                        + " objects such as extra and credentials merge by key, groups is replaced whole)",
                List.of(),
                "JSON merge patch (application/merge-patch+json or application/json) of {" + fields + "}",
                c -> {
                    long id = c.positivePathId("id");
                    return accounts()
                            .patch(id, c.bodyObject())
                            .orElseThrow(() -> ApiError.notFound("account " + id + " not found or deleted"));
                }));
        routes.add(new Route(
                "PUT",
                "/admin/accounts/{id}/model-mapping",
                Access.ADMIN,
                "Replaces credentials.model_mapping whole (its keys are the supported models; {} removes it: all"
                        + " models), keeping every other credential",
                List.of(),
                "{model_mapping: {requested_model: upstream_model, ...}}",
                c -> {
                    long id = c.positivePathId("id");
                    ModelMappingIn in = c.body(ModelMappingIn.class);
                    if (in.modelMapping() == null) {
                        throw ApiError.badRequest("field model_mapping is required ({} removes the mapping)");
                    }
                    return accounts()
                            .replaceModelMapping(id, in.modelMapping())
                            .orElseThrow(() -> ApiError.notFound("account " + id + " not found or deleted"));
                }));
        routes.add(new Route(
                "DELETE", "/admin/accounts/{id}", Access.ADMIN, "Soft-deletes an account", List.of(), null, c -> {
                    long id = c.positivePathId("id");
                    if (!accounts().delete(id)) {
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
                    List<AccountView.Link> links = new ArrayList<>(in.groups().size());
                    for (LinkIn l : in.groups()) {
                        if (l == null) {
                            throw ApiError.badRequest("every group link must be an object {id, priority}");
                        }
                        links.add(l.link());
                    }
                    return accounts()
                            .replaceGroups(id, links)
                            .orElseThrow(() -> ApiError.notFound("account " + id + " not found or deleted"));
                }));
        routes.add(new Route("GET", "/admin/groups", Access.ADMIN, "Groups, paged by id", paging, null, c -> {
            int limit = c.queryInt("limit", 100, 1, 500);
            List<GroupView> page = groups().page(after(c), limit, c.queryBool("include_deleted", false));
            return new Page<>(page, page.size() == limit ? page.getLast().id() : null);
        }));
        routes.add(new Route(
                "POST",
                "/admin/groups",
                Access.ADMIN,
                "Creates a group (status defaults to " + GroupAdmin.DEFAULT_STATUS + ")",
                List.of(),
                "{name, platform, status?}",
                c -> {
                    Map<String, Object> body = c.bodyObject();
                    c.status(201);
                    return groups().create(body);
                }));
        routes.add(new Route("GET", "/admin/groups/{id}", Access.ADMIN, "One group", List.of(), null, c -> {
            long id = c.positivePathId("id");
            return groups().get(id).orElseThrow(() -> ApiError.notFound("group " + id + " not found"));
        }));
        routes.add(new Route(
                "PUT",
                "/admin/groups/{id}",
                Access.ADMIN,
                "Replaces a group's name, platform and status (all three required; 400 naming a missing one)",
                List.of(),
                "{name, platform, status}",
                c -> {
                    long id = c.positivePathId("id");
                    return groups().replace(id, c.bodyObject())
                            .orElseThrow(() -> ApiError.notFound("group " + id + " not found or deleted"));
                }));
        routes.add(new Route(
                "PATCH",
                "/admin/groups/{id}",
                Access.ADMIN,
                "Changes only the fields given (JSON merge patch, RFC 7396)",
                List.of(),
                "JSON merge patch of {name, platform, status}",
                c -> {
                    long id = c.positivePathId("id");
                    return groups().patch(id, c.bodyObject())
                            .orElseThrow(() -> ApiError.notFound("group " + id + " not found or deleted"));
                }));
        routes.add(new Route(
                "DELETE", "/admin/groups/{id}", Access.ADMIN, "Soft-deletes a group", List.of(), null, c -> {
                    long id = c.positivePathId("id");
                    if (!groups().delete(id)) {
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
}
