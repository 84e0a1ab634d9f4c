package dev.roster.server.http;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.roster.core.AccountCard;
import dev.roster.core.AccountLimits;
import dev.roster.core.Bucket;
import dev.roster.core.Platforms;
import dev.roster.core.TimeFilter;
import dev.roster.core.audit.AuditReport;
import dev.roster.core.audit.Drift;
import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.status.PoolStatus;
import dev.roster.server.app.Backend;
import dev.roster.server.app.BackendSource;
import dev.roster.server.config.Secrets;
import dev.roster.server.http.Route.Access;
import dev.roster.server.http.Route.Param;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The operator status page (decisions P1–P9 under "Status page"): the page itself at {@code /} (static HTML, CSS and
 * JavaScript from the jar, public because it holds no data) and the admin endpoints it polls,
 * {@code /admin/status/*}, behind {@code server.admin_token} like the rest of the admin API. The page
 * also uses the plain admin API (audit, rebuild, dead letters and their retry).
 */
final class StatusRoutes {
    private static final String RESOURCES = "/dev/roster/server/status/";
    /** The page's own files; nothing else is served from the class path. */
    private static final Map<String, String> FILES = Map.of(
            "index.html", "text/html; charset=utf-8",
            "app.js", "text/javascript; charset=utf-8",
            "app.css", "text/css; charset=utf-8");
    /** Scripts and styles only from this origin, no inline script, no framing. */
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
            + " connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    private final BackendSource source;
    private final Supplier<Backend> backend;
    private final Metrics metrics;
    private final Map<String, byte[]> files = new HashMap<>();
    private final Map<Bucket, Seen> seen = new ConcurrentHashMap<>();
    private volatile @Nullable Audited lastAudit;

    StatusRoutes(BackendSource source, Supplier<Backend> backend, Metrics metrics) {
        this.source = source;
        this.backend = backend;
        this.metrics = metrics;
        for (String f : FILES.keySet()) {
            try (InputStream in = StatusRoutes.class.getResourceAsStream(RESOURCES + f)) {
                if (in == null) {
                    throw new IllegalStateException("status page resource " + f + " missing from the jar");
                }
                files.put(f, in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Remembers the latest audit (called by {@code GET /admin/audit}). */
    void audited(AuditReport report) {
        lastAudit = new Audited(Instant.now(), report);
    }

    private record Audited(Instant at, AuditReport report) {}

    private record Seen(long version, Instant at) {}

    // ---- JSON shapes ---------------------------------------------------------------------------

    /** Why an account is not schedulable now: kind and, for time blocks, until when. */
    record Why(String kind, @Nullable Instant until) {}

    record GroupRef(String id, String name) {}

    record AccountOut(
            long id,
            String name,
            String platform,
            String type,
            String status,
            boolean schedulable,
            boolean effective,
            List<Why> why,
            int priority,
            int concurrency,
            @Nullable Integer inFlight,
            List<GroupRef> groups,
            @Nullable Instant lastUsedAt,
            int weight,
            int rpmLimit,
            @JsonProperty("quota_threshold_5h") @Nullable Integer quotaThreshold5h,
            @JsonProperty("quota_threshold_7d") @Nullable Integer quotaThreshold7d) {}

    record AccountsOut(
            Instant now,
            long total,
            int offset,
            int limit,
            List<AccountOut> items,
            List<String> platforms,
            List<PoolStatus.GroupName> groups) {}

    record BucketOut(
            String bucket,
            long groupId,
            String groupName,
            String platform,
            String mode,
            boolean active,
            int size,
            int availableNow,
            @Nullable Long version,
            @Nullable String generation,
            @Nullable Instant versionSeenAt,
            @Nullable Double ageSeconds,
            @Nullable List<String> drift) {}

    record BucketsOut(
            Instant now,
            @Nullable Instant auditedAt,
            @Nullable Boolean auditClean,
            List<BucketOut> buckets) {}

    record Probe(boolean ok, double ms, @Nullable String error) {}

    record HotPath(
            long answers,
            long nearCache,
            @Nullable Double nearCacheHitRatio,
            long fallbackQueries,
            @Nullable Double fallbackPerSecond) {}

    record Thresholds(int lagWarnSeconds, int lagRebuildSeconds, int backlogRebuildRows) {}

    record Overview(
            Instant now,
            boolean ready,
            String reason,
            Probe postgres,
            Probe redis,
            AdminRoutes.@Nullable Outbox outbox,
            HotPath hotPath,
            @Nullable Thresholds thresholds,
            int windowSeconds,
            List<StatusHistory.Sample> replay) {}

    // ---- routes --------------------------------------------------------------------------------

    void register(List<Route> routes) {
        routes.add(new Route(
                "GET",
                "/",
                Access.PUBLIC,
                "The operator status page (HTML; its data comes from /admin/* with the admin token)",
                List.of(),
                null,
                c -> file(c, "index.html")));
        routes.add(new Route(
                "GET",
                "/status/{file}",
                Access.PUBLIC,
                "The status page's script and style sheet",
                List.of(),
                null,
                c -> {
                    String f = c.ctx().pathParam("file");
                    if (!FILES.containsKey(f) || f.equals("index.html")) {
                        throw ApiError.notFound("no status page file " + Call.clip(f));
                    }
                    return file(c, f);
                }));
        routes.add(new Route(
                "GET",
                "/admin/status/overview",
                Access.ADMIN,
                "Status page: readiness, PostgreSQL and Redis probes, outbox, hot-path tiers, thresholds and"
                        + " the replay samples of the last 15 minutes",
                List.of(),
                null,
                c -> overview()));
        routes.add(new Route(
                "GET",
                "/admin/status/accounts",
                Access.ADMIN,
                "Status page: accounts with their effective schedulability now and why not, filtered and paged",
                List.of(
                        new Param("q", "string", false, "name substring (case-insensitive) or id"),
                        new Param("group", "integer", false, "group id; 0 = accounts in no group"),
                        new Param("platform", "string", false, "platform"),
                        new Param("state", "string", false, "one of " + String.join(", ", PoolStatus.STATES)),
                        new Param("offset", "integer", false, "0..10000000 (default 0)"),
                        new Param("limit", "integer", false, "1..500 (default 50)")),
                null,
                this::accounts));
        routes.add(new Route(
                "GET",
                "/admin/status/buckets",
                Access.ADMIN,
                "Status page: registered buckets with mode, size, snapshot version, age and drift of the latest"
                        + " audit",
                List.of(),
                null,
                c -> buckets()));
    }

    private Object file(Call c, String name) {
        c.ctx().header("Content-Security-Policy", CSP);
        c.ctx().header("X-Content-Type-Options", "nosniff");
        c.ctx().header("Referrer-Policy", "no-referrer");
        c.ctx().header("X-Frame-Options", "DENY");
        c.ctx().header("Cache-Control", "no-cache");
        return new HttpServer.Raw(Objects.requireNonNull(FILES.get(name)), Objects.requireNonNull(files.get(name)));
    }

    private Object accounts(Call c) {
        String platform = blankToNull(c.ctx().queryParam("platform"));
        if (platform != null && !Platforms.isValid(platform)) {
            throw ApiError.badRequest("platform must match [a-z][a-z0-9_-]{0,31}, got '" + Call.clip(platform) + "'");
        }
        String state = blankToNull(c.ctx().queryParam("state"));
        if (state != null && !PoolStatus.STATES.contains(state)) {
            throw ApiError.badRequest("state must be one of " + String.join(", ", PoolStatus.STATES) + ", got '"
                    + Call.clip(state) + "'");
        }
        String q = blankToNull(c.ctx().queryParam("q"));
        if (q != null && q.length() > 200) {
            throw ApiError.badRequest("query parameter q must be at most 200 characters");
        }
        int offset = c.queryInt("offset", 0, 0, 10_000_000);
        int limit = c.queryInt("limit", 50, 1, 500);
        Backend b = backend.get();
        PoolStatus sq = b.pool();
        Instant now = b.now();
        PoolStatus.Page page =
                sq.accounts(new PoolStatus.Filter(q, c.queryId("group"), platform, state), now, offset, limit);
        List<Long> ids = page.rows().stream().map(PoolStatus.Row::id).toList();
        Map<Long, Instant> lastUsed = ids.isEmpty() ? Map.of() : b.lastUsed(ids);
        List<AccountOut> items = new ArrayList<>(page.rows().size());
        for (PoolStatus.Row r : page.rows()) {
            List<Why> why = why(r, now);
            Instant lu = later(r.lastUsedAt(), lastUsed.get(r.id()));
            items.add(new AccountOut(
                    r.id(),
                    r.name(),
                    r.platform(),
                    r.type(),
                    r.status(),
                    r.schedulable(),
                    why.isEmpty(),
                    why,
                    r.priority(),
                    r.concurrency(),
                    null, // in-flight slots arrive with selection (/v1/select)
                    r.groups().stream()
                            .map(g -> new GroupRef(String.valueOf(g.id()), g.name()))
                            .toList(),
                    lu,
                    limits(r).weight(),
                    limits(r).rpmLimit(),
                    limits(r).quotaThreshold5h(),
                    limits(r).quotaThreshold7d()));
        }
        return new AccountsOut(now, page.total(), offset, limit, items, sq.platforms(), sq.groups());
    }

    /**
     * Every reason the account is not schedulable at {@code now}: the durable ones (status, the admin
     * switch) and each time block, with the rule of {@link AccountCard#timeBlockAt} (a block ends at its
     * instant; expiry blocks only with auto-pause).
     */
    static List<Why> why(PoolStatus.Row r, Instant now) {
        List<Why> out = new ArrayList<>(2);
        if (!"active".equals(r.status())) {
            out.add(new Why("status_" + r.status(), null));
        }
        if (!r.schedulable()) {
            out.add(new Why("disabled", null));
        }
        if (r.rateLimitResetAt() != null && r.rateLimitResetAt().isAfter(now)) {
            out.add(new Why("rate_limited", r.rateLimitResetAt()));
        }
        if (r.overloadUntil() != null && r.overloadUntil().isAfter(now)) {
            out.add(new Why("overloaded", r.overloadUntil()));
        }
        if (r.tempUnschedulableUntil() != null && r.tempUnschedulableUntil().isAfter(now)) {
            out.add(new Why("temp_unschedulable", r.tempUnschedulableUntil()));
        }
        if (r.autoPauseOnExpired() && r.expiresAt() != null && !r.expiresAt().isAfter(now)) {
            out.add(new Why("expired", r.expiresAt()));
        }
        return out;
    }

    private Object buckets() {
        Backend b = backend.get();
        Instant now = b.now();
        Map<Long, String> groupNames = new HashMap<>();
        for (PoolStatus.GroupName g : b.pool().groups()) {
            groupNames.put(g.id(), g.name());
        }
        Audited audit = lastAudit;
        Map<Bucket, List<String>> drift = audit == null ? Map.of() : driftByBucket(audit.report());
        List<BucketOut> out = new ArrayList<>();
        List<Bucket> all = new ArrayList<>(b.buckets());
        all.sort(null);
        Instant wall = Instant.now();
        for (Bucket k : all) {
            Optional<Snapshot> s = b.snapshot(k);
            Long version = s.map(Snapshot::version).orElse(null);
            Seen first = null;
            if (version != null) {
                first = seen.compute(
                        k, (key, old) -> old != null && old.version() == version ? old : new Seen(version, wall));
            }
            List<AccountCard> cards = s.map(Snapshot::cards).orElse(List.of());
            out.add(new BucketOut(
                    k.text(),
                    k.groupId(),
                    k.groupId() == 0 ? "(no group)" : groupNames.getOrDefault(k.groupId(), "(deleted group)"),
                    k.platform(),
                    k.mode().name().toLowerCase(Locale.ROOT),
                    s.isPresent(),
                    cards.size(),
                    TimeFilter.apply(cards, now).size(),
                    version,
                    s.map(Snapshot::generation).orElse(null),
                    first == null ? null : first.at(),
                    first == null ? null : Duration.between(first.at(), wall).toMillis() / 1000.0,
                    audit == null ? null : drift.getOrDefault(k, List.of())));
        }
        seen.keySet().retainAll(all);
        return new BucketsOut(
                now,
                audit == null ? null : audit.at(),
                audit == null ? null : audit.report().clean(),
                out);
    }

    private static Map<Bucket, List<String>> driftByBucket(AuditReport r) {
        Map<Bucket, List<String>> m = new HashMap<>();
        for (Drift d : r.drifts()) {
            m.computeIfAbsent(d.bucket(), k -> new ArrayList<>())
                    .add(d.kind().name().toLowerCase(Locale.ROOT) + (d.detail() == null ? "" : ": " + d.detail()));
        }
        r.unstable().forEach(k -> m.computeIfAbsent(k, x -> new ArrayList<>()).add("unstable"));
        r.missing().forEach(k -> m.computeIfAbsent(k, x -> new ArrayList<>()).add("missing"));
        r.staleGeneration()
                .forEach(k -> m.computeIfAbsent(k, x -> new ArrayList<>()).add("stale generation"));
        return m;
    }

    private Object overview() {
        Backend.Readiness readiness = source.readiness();
        Backend b = source.backend();
        Probe pg = new Probe(false, 0, "not started");
        Probe redis = pg;
        AdminRoutes.Outbox outbox = null;
        Thresholds thresholds = null;
        long fallbackQueries = 0;
        if (b != null) {
            pg = probe(() -> b.pool().ping());
            redis = probe(b::pingRedis);
            SchedulingConfig s = b.scheduling();
            thresholds =
                    new Thresholds(s.outboxLagWarnSeconds(), s.outboxLagRebuildSeconds(), s.outboxBacklogRebuildRows());
            fallbackQueries = b.stats().fallbackQueries();
            if (pg.ok()) {
                try {
                    outbox = AdminRoutes.outboxOf(b.outbox());
                } catch (RuntimeException e) {
                    pg = new Probe(false, pg.ms(), safe(e));
                }
            }
        }
        long near = metrics.tierCount("near_cache");
        long answers = near + metrics.tierCount("redis") + metrics.tierCount("fallback");
        List<StatusHistory.Sample> samples = metrics.history().samples();
        Double fallbackRate = samples.isEmpty() ? null : samples.getLast().fallbackPerSecond();
        return new Overview(
                b == null ? Instant.now() : b.now(),
                readiness.ready(),
                readiness.reason(),
                pg,
                redis,
                outbox,
                new HotPath(
                        answers, near, answers == 0 ? null : (double) near / answers, fallbackQueries, fallbackRate),
                thresholds,
                (int) StatusHistory.WINDOW.toSeconds(),
                samples);
    }

    private static Probe probe(Runnable r) {
        long t0 = System.nanoTime();
        try {
            r.run();
            return new Probe(true, (System.nanoTime() - t0) / 1e6, null);
        } catch (RuntimeException e) {
            return new Probe(false, (System.nanoTime() - t0) / 1e6, safe(e));
        }
    }

    private static String safe(RuntimeException e) {
        String m = Secrets.maskUrl(String.valueOf(e.getMessage()));
        return m.length() > 300 ? m.substring(0, 300) + "..." : m;
    }

    // Row's constructor replaces a null limits with the defaults, so the accessor never returns null.
    private static AccountLimits limits(PoolStatus.Row r) {
        return Objects.requireNonNull(r.limits(), "limits");
    }

    private static @Nullable Instant later(@Nullable Instant a, @Nullable Instant b) {
        if (a == null) {
            return b;
        }
        return b == null || a.isAfter(b) ? a : b;
    }

    private static @Nullable String blankToNull(@Nullable String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
