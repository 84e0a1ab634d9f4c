package dev.roster.server.http;

import dev.roster.core.selection.CooldownKind;
import dev.roster.core.selection.Selection;
import dev.roster.core.selection.SelectionCounters;
import dev.roster.core.service.ListResult;
import dev.roster.server.app.Backend;
import dev.roster.server.app.BackendSource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.Nullable;

/**
 * The Prometheus metrics of {@code /metrics}. Labels are bounded: route templates (not paths), status
 * codes, the hot-path tier, the token kind. Nothing is labelled per bucket or account; those details
 * are on the admin API. Outbox figures come from a snapshot refreshed by {@link #refreshOutbox}, so a
 * scrape never queries the database.
 */
public final class Metrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ConcurrentHashMap<String, Timer> requestTimers = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> tiers = new ConcurrentHashMap<>();
    private final Counter fallbackRejections;
    private final Counter answerBuilds;
    private final Counter answerBuildBytes;
    private final AtomicReference<Backend.@Nullable OutboxStatus> outbox = new AtomicReference<>();
    private final StatusHistory history = new StatusHistory();
    private final BackendSource source;

    /** Registers every meter; service counters are read from {@code source} at scrape time. */
    public Metrics(BackendSource source) {
        this.source = source;
        fallbackRejections = Counter.builder("roster_fallback_rejections")
                .description("hot-path requests refused because db_fallback_max_qps was reached (HTTP 429)")
                .register(registry);
        answerBuilds = Counter.builder("roster_http_answer_builds")
                .description("GET /v1/schedulable answers encoded to JSON (the rest were sent from cached bytes)")
                .register(registry);
        answerBuildBytes = Counter.builder("roster_http_answer_build_bytes")
                .description("JSON bytes of the answers counted by roster_http_answer_builds")
                .register(registry);
        Gauge.builder("roster_ready", source, s -> s.readiness().ready() ? 1 : 0)
                .description("1 when the projection was verified or rebuilt and requests are served")
                .register(registry);
        stat(source, "roster_fallback_queries", "database fallback queries run", Backend.Stats::fallbackQueries);
        stat(
                source,
                "roster_replay_events_applied",
                "outbox events applied by the replayer",
                Backend.Stats::replayApplied);
        stat(
                source,
                "roster_replay_bucket_rebuilds",
                "bucket rebuilds by the replayer (one per dirty bucket per batch)",
                Backend.Stats::bucketRebuilds);
        stat(
                source,
                "roster_dead_lettered",
                "outbox events dead-lettered by this instance",
                Backend.Stats::deadLettered);
        stat(source, "roster_full_rebuilds", "full rebuild runs", Backend.Stats::fullRebuilds);
        stat(source, "roster_full_rebuild_failures", "failed full rebuild runs", Backend.Stats::fullRebuildFailures);
        Gauge.builder("roster_replay_coalescing_ratio", source, s -> {
                    Backend b = s.backend();
                    if (b == null) {
                        return Double.NaN;
                    }
                    Backend.Stats st = b.stats();
                    return st.bucketRebuilds() == 0 ? Double.NaN : (double) st.replayApplied() / st.bucketRebuilds();
                })
                .description("events applied per bucket rebuild since start (higher = more coalescing)")
                .register(registry);
        outboxGauge(
                "roster_replay_lag_seconds",
                "age of the oldest pending outbox event (database clock)",
                o -> o.stats().lag() == null ? 0 : o.stats().lag().toMillis() / 1000.0);
        outboxGauge(
                "roster_outbox_backlog", "pending outbox events", o -> o.stats().pending());
        outboxGauge(
                "roster_outbox_horizon_age_seconds",
                "age of the oldest open transaction holding the horizon",
                o -> o.stats().horizonAge() == null ? 0 : o.stats().horizonAge().toMillis() / 1000.0);
        outboxGauge("roster_dead_letters", "rows in the dead-letter table", o -> o.deadLetters());
        outboxGauge("roster_replayer", "1 when this instance holds the replayer lease", o -> o.replayer() ? 1 : 0);
        selection(source);
    }

    /**
     * Selection counters, read from the library's {@link SelectionCounters} at scrape time.
     * Labels are enums only (layer, result, reason, cooldown kind), so the series are bounded.
     */
    private void selection(BackendSource source) {
        for (Selection.Layer layer : Selection.Layer.values()) {
            String l = layer.name().toLowerCase(Locale.ROOT);
            selectionCounter(
                    source,
                    "roster_selections",
                    "select answers that acquired a slot or planned a wait, by layer",
                    c -> c.acquisitions().getOrDefault(layer, 0L),
                    "layer",
                    l,
                    "result",
                    "acquired");
            if (layer == Selection.Layer.STICKY || layer == Selection.Layer.FALLBACK) {
                selectionCounter(
                        source,
                        "roster_selections",
                        "select answers that acquired a slot or planned a wait, by layer",
                        c -> c.waitPlans().getOrDefault(layer, 0L),
                        "layer",
                        l,
                        "result",
                        "wait");
            }
        }
        for (Selection.Reason reason : Selection.Reason.values()) {
            selectionCounter(
                    source,
                    "roster_selection_none",
                    "select answers with nothing to serve the request, by reason",
                    c -> c.nones().getOrDefault(reason, 0L),
                    "reason",
                    reason.name().toLowerCase(Locale.ROOT));
        }
        selectionCounter(
                source,
                "roster_sticky_sessions",
                "requests with a session key: binding used (hit), absent or unusable (miss), dropped (drop)",
                SelectionCounters::stickyHits,
                "outcome",
                "hit");
        selectionCounter(
                source,
                "roster_sticky_sessions",
                "requests with a session key: binding used (hit), absent or unusable (miss), dropped (drop)",
                SelectionCounters::stickyMisses,
                "outcome",
                "miss");
        selectionCounter(
                source,
                "roster_sticky_sessions",
                "requests with a session key: binding used (hit), absent or unusable (miss), dropped (drop)",
                SelectionCounters::stickyDrops,
                "outcome",
                "drop");
        selectionCounter(
                source,
                "roster_slot_saturated",
                "slot acquisitions that found the account at its concurrency",
                SelectionCounters::saturatedCount);
        for (CooldownKind kind : CooldownKind.values()) {
            selectionCounter(
                    source,
                    "roster_cooldowns_set",
                    "reports that set or kept a cooldown, by kind",
                    c -> c.cooldowns().getOrDefault(kind, 0L),
                    "kind",
                    kind.name().toLowerCase(Locale.ROOT));
        }
        selectionCounter(
                source,
                "roster_accounts_errored",
                "reports that put an account into error status",
                SelectionCounters::errors);
    }

    private void selectionCounter(
            BackendSource source, String name, String help, ToDoubleFunction<SelectionCounters> f, String... tags) {
        FunctionCounter.builder(name, source, s -> {
                    Backend b = s.backend();
                    return b == null ? 0 : f.applyAsDouble(b.selectionCounters());
                })
                .description(help)
                .tags(tags)
                .register(registry);
    }

    private void stat(BackendSource source, String name, String help, ToDoubleFunction<Backend.Stats> f) {
        FunctionCounter.builder(name, source, s -> {
                    Backend b = s.backend();
                    return b == null ? 0 : f.applyAsDouble(b.stats());
                })
                .description(help)
                .register(registry);
    }

    private void outboxGauge(String name, String help, ToDoubleFunction<Backend.OutboxStatus> f) {
        Gauge.builder(name, outbox, r -> {
                    Backend.OutboxStatus o = r.get();
                    return o == null ? Double.NaN : f.applyAsDouble(o);
                })
                .description(help)
                .register(registry);
    }

    /**
     * Stores the latest outbox figures (called periodically by the server) and adds a sample to the
     * status page's replay history.
     */
    public void refreshOutbox(Backend.OutboxStatus status) {
        outbox.set(status);
        Backend b = source.backend();
        Backend.Stats st = b == null ? null : b.stats();
        long near = tierCount("near_cache");
        long answers = near + tierCount("redis") + tierCount("fallback");
        history.add(
                status.watermark(),
                status.stats().pending(),
                status.stats().lag() == null ? 0 : status.stats().lag().toMillis() / 1000.0,
                new StatusHistory.Counters(
                        java.time.Instant.now(),
                        st == null ? 0 : st.replayApplied(),
                        st == null ? 0 : st.bucketRebuilds(),
                        near,
                        answers,
                        st == null ? 0 : st.fallbackQueries()));
    }

    /** The latest outbox figures, or null before the first refresh. */
    Backend.@Nullable OutboxStatus lastOutbox() {
        return outbox.get();
    }

    /** The replay samples of the last 15 minutes. */
    StatusHistory history() {
        return history;
    }

    /** Hot-path answers served by {@code tier} ({@code near_cache}, {@code redis}, {@code fallback}) since start. */
    long tierCount(String tier) {
        Counter c = tiers.get(tier);
        return c == null ? 0 : (long) c.count();
    }

    /** Counts one answer of the hot path by the tier that served it. */
    public void hit(ListResult.Source source) {
        String tier = switch (source.name()) {
            case "PROJECTION" -> "redis";
            case "DATABASE" -> "fallback";
            default -> source.name().toLowerCase(Locale.ROOT);
        };
        tiers.computeIfAbsent(
                        tier,
                        t -> Counter.builder("roster_hot_path_hits")
                                .description("hot-path answers by the tier that served them")
                                .tag("tier", t)
                                .register(registry))
                .increment();
    }

    /** Counts one {@code /v1/schedulable} answer encoded to JSON, of {@code bytes} bytes. */
    void answerBuilt(long bytes) {
        answerBuilds.increment();
        answerBuildBytes.increment((double) bytes);
    }

    /** Answers encoded so far (tests compare it before and after a request). */
    long answerBuilds() {
        return (long) answerBuilds.count();
    }

    /** Counts a 429 of the fallback limiter. */
    public void fallbackRejected() {
        fallbackRejections.increment();
    }

    /** Exports the watch stream's open streams, read at scrape time. */
    void watchStreams(java.util.function.IntSupplier open) {
        Gauge.builder("roster_watch_clients", open, o -> o.getAsInt())
                .description("GET /v1/watch streams open now (server.watch_max_clients is the cap)")
                // The supplier is a lambda nobody else holds: a weak reference would read NaN after a GC.
                .strongReference(true)
                .register(registry);
    }

    /** Counts a watch client dropped because it did not read its stream. */
    void watchDropped() {
        Counter.builder("roster_watch_dropped")
                .description("watch clients dropped because they did not read their stream (server.watch_queue)")
                .register(registry)
                .increment();
    }

    /** Counts a refused bearer token. */
    public void authFailure(String kind) {
        Counter.builder("roster_http_auth_failures")
                .description("requests refused for a missing or wrong bearer token")
                .tag("api", kind)
                .register(registry)
                .increment();
    }

    /** Records one request by route template, method and status. */
    public void request(String method, String route, int status, long nanos) {
        String key = method + " " + route + " " + status;
        requestTimers
                .computeIfAbsent(
                        key,
                        k -> Timer.builder("roster_http_requests")
                                .description("HTTP requests by route template, method and status")
                                .tag("method", method)
                                .tag("route", route)
                                .tag("status", Integer.toString(status))
                                .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /** The Prometheus text exposition. */
    public String scrape() {
        return registry.scrape();
    }
}
