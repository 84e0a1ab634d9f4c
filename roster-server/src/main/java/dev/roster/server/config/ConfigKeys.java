package dev.roster.server.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every key Roster reads, in the order of {@code roster.example.yaml}. Connection keys use sub2api's
 * spellings; {@code gateway.scheduling.*} uses sub2api's names, formats and defaults; the other
 * sections are Roster's own (docs/architecture.md, "Configuration").
 */
public final class ConfigKeys {
    /** The prefix under which unknown keys are accepted with a warning (operators paste sub2api's section whole). */
    public static final String SCHEDULING = "gateway.scheduling.";

    /** Every known key, by path, in documentation order. */
    public static final Map<String, ConfigKey> ALL;

    static {
        List<ConfigKey> k = new ArrayList<>();
        // connection: sub2api's spellings; url wins over host/port/...
        k.add(url("database.url", "JDBC URL of PostgreSQL (jdbc:postgresql://host:port/db); wins over database.host"));
        k.add(str(
                "database.host",
                "",
                "PostgreSQL host (sub2api spelling); with neither url nor host an embedded PostgreSQL is started"));
        k.add(i("database.port", "5432", "PostgreSQL port"));
        k.add(str("database.user", "postgres", "PostgreSQL user"));
        k.add(secret("database.password", "PostgreSQL password (never printed)"));
        k.add(str("database.dbname", "roster", "database name"));
        k.add(e(
                "database.sslmode",
                "disable",
                "TLS mode of the JDBC driver",
                "disable",
                "allow",
                "prefer",
                "require",
                "verify-ca",
                "verify-full"));
        k.add(i("database.pool_size", "10", "maximum PostgreSQL connections of this instance (1..200)"));
        k.add(b("database.migrate", "true", "apply Roster's migrations at start (roster migrate does it on demand)"));
        k.add(
                url(
                        "redis.url",
                        "Redis URI: redis://, rediss://, redis-sentinel://h1,h2/db?master=NAME or redis-cluster://h1:p1,h2:p2; wins over redis.host"));
        k.add(str(
                "redis.host",
                "",
                "Redis host (sub2api spelling); with neither url nor host an embedded Redis is started"));
        k.add(i("redis.port", "6379", "Redis port"));
        k.add(secret("redis.password", "Redis password (never printed)"));
        k.add(i("redis.db", "0", "Redis database number"));
        k.add(str(
                "redis.key_prefix",
                "roster:",
                "prefix of every Redis key Roster writes ([A-Za-z0-9_.:-], at most 100 characters)"));
        // server
        k.add(str(
                "server.host",
                "127.0.0.1",
                "address the HTTP server binds to (0.0.0.0 for every interface; terminate TLS in a proxy in front)"));
        k.add(i("server.port", "8090", "HTTP port (0 picks a free one)"));
        k.add(secret(
                "server.admin_token", "bearer token of /admin/*; required unless server.host is a loopback address"));
        k.add(secret("server.api_token", "bearer token of /v1/*; empty means /v1/* is open"));
        k.add(b("server.admin_enabled", "true", "serve the admin API"));
        k.add(i(
                "server.max_concurrent_requests",
                "256",
                "requests handled at once; more are answered 503 at once instead of queueing"));
        k.add(dur("server.request_timeout", "10s", "longest a request may take; bounds the database fallback too"));
        k.add(i("server.max_body_bytes", "1048576", "largest accepted request body (413 above)"));
        k.add(dur("server.shutdown_timeout", "20s", "on SIGTERM, how long in-flight requests may finish"));
        k.add(i(
                "server.watch_max_clients",
                "1024",
                "GET /v1/watch streams open at once (1..100000); one more is answered 503 at once"));
        k.add(i("server.watch_max_buckets", "64", "buckets one watch stream may name (1..1000; more is a 400)"));
        k.add(dur(
                "server.watch_heartbeat",
                "15s",
                "comment line on an idle watch stream (below proxies' idle timeouts and Jetty's 30 s)"));
        k.add(i(
                "server.watch_queue",
                "64",
                "frames a watch client may leave unread beyond one per bucket before it is dropped (1..10000)"));
        k.add(e("run_mode", "standard", "sub2api's run mode: simple makes every bucket group 0", "standard", "simple"));
        // gateway.scheduling: sub2api's keys, formats and defaults
        k.add(i(
                SCHEDULING + "sticky_session_max_waiting",
                "3",
                "queue limit on the sticky account before a request moves on to the load-aware layer (> 0)"));
        k.add(dur(
                SCHEDULING + "sticky_session_wait_timeout",
                "120s",
                "timeout of a wait plan on the sticky account (also the wait ticket's lifetime; > 0)"));
        k.add(dur(
                SCHEDULING + "fallback_wait_timeout",
                "30s",
                "timeout of a wait plan of the fallback layer (also the wait ticket's lifetime; > 0)"));
        k.add(i(SCHEDULING + "fallback_max_waiting", "100", "queue limit of the fallback layer (> 0)"));
        k.add(b(
                SCHEDULING + "load_batch_enabled",
                "true",
                "load-aware selection order (false: sub2api's legacy single-best order)"));
        k.add(dur(
                SCHEDULING + "slot_cleanup_interval",
                "30s",
                "period of the sweep of expired concurrency slots and wait tickets (0 disables)"));
        k.add(b(SCHEDULING + "db_fallback_enabled", "true", "answer a projection miss from PostgreSQL"));
        k.add(i(
                SCHEDULING + "db_fallback_timeout_seconds",
                "0",
                "extra bound of one fallback query in seconds (0 = only the caller's deadline)"));
        k.add(i(
                SCHEDULING + "db_fallback_max_qps",
                "0",
                "fallback queries per second per instance (0 = unlimited); above it requests get 429"));
        k.add(i(
                SCHEDULING + "outbox_poll_interval_seconds",
                "1",
                "outbox poll period in seconds (> 0); LISTEN wakes the replayer earlier"));
        k.add(i(SCHEDULING + "outbox_lag_warn_seconds", "5", "replay lag that logs a warning (0 disables)"));
        k.add(i(
                SCHEDULING + "outbox_lag_rebuild_seconds",
                "10",
                "replay lag that triggers a full rebuild (0 disables; >= the warn value)"));
        k.add(i(
                SCHEDULING + "outbox_lag_rebuild_failures",
                "3",
                "consecutive lagging polls before that rebuild (> 0)"));
        k.add(i(
                SCHEDULING + "outbox_backlog_rebuild_rows",
                "10000",
                "pending events that trigger a full rebuild (0 disables)"));
        k.add(i(
                SCHEDULING + "full_rebuild_interval_seconds",
                "300",
                "period of the full rebuild in seconds (0 disables)"));
        // Roster's sections
        k.add(i("replay.batch_size", "5000", "outbox events per read (1..100000)"));
        k.add(i("replay.max_applied", "10000", "applied event ids remembered above the watermark (>= batch_size)"));
        k.add(i("replay.max_attempts", "5", "tries of a failing event before it is dead-lettered (1..1000)"));
        k.add(dur("replay.retry_backoff", "1s", "first delay before a failed batch is retried; doubles per failure"));
        k.add(dur("replay.retry_backoff_max", "60s", "cap of that delay (>= retry_backoff)"));
        k.add(dur("replay.retention", "10m", "applied events older than this are deleted"));
        k.add(i("replay.retention_batch_size", "5000", "rows per retention delete"));
        k.add(dur("replay.retention_interval", "60s", "period of the retention pass"));
        k.add(i("replay.rebuild_parallelism", "4", "buckets rebuilt at once (1..64)"));
        k.add(b("near_cache.enabled", "true", "keep an in-process copy of served snapshots"));
        k.add(dur("near_cache.max_stale", "5s", "how long the near cache may answer while Redis is unreachable"));
        k.add(dur(
                "near_cache.check_interval",
                "1s",
                "how often served versions are compared with Redis (lost invalidations); below max_stale"));
        k.add(i(
                "near_cache.max_buckets",
                "10000",
                "buckets one instance keeps in memory (1..1000000); others are read from Redis"));
        k.add(dur(
                "near_cache.last_used_flush_interval",
                "1s",
                "how often last-used times are written behind to PostgreSQL"));
        k.add(dur("projection.lease_ttl", "10s", "TTL of the replayer lease"));
        k.add(dur("projection.lease_renew", "3s", "lease renewal period (< lease_ttl)"));
        k.add(dur("projection.grace", "60s", "how long superseded snapshot versions stay readable"));
        k.add(e(
                "scope.group0",
                "all",
                "group 0 in standard run mode: every account (all) or accounts in no group (ungrouped)",
                "all",
                "ungrouped"));
        k.add(b(
                "embedded.enabled",
                "true",
                "start embedded PostgreSQL/Redis for stores that are not configured (false: refuse to start)"));
        k.add(str("embedded.data_dir", "./.roster-data", "data folder of the embedded servers, kept across restarts"));
        // selection: Roster's own timings of select/release/report
        k.add(dur(
                "selection.slot_lease_ttl",
                "5m",
                "a held concurrency slot frees itself this long after select/renew if its holder never releases it"));
        k.add(dur(
                "selection.sticky_ttl", "1h", "how long a session stays bound to its account; refreshed on each use"));
        k.add(dur(
                "selection.auth_failure_cooldown",
                "10m",
                "temporary unschedulable period of a reported 401 on an OAuth or setup-token account"));
        // selection.cooldowns: cooldowns by error class (decisions CD1-CD3); a list escalates with
        // consecutive failures of its class, its last step repeating, until a success report
        k.add(durs(
                "selection.cooldowns.rate_limit_steps",
                "5s,10s,45s",
                "cooldown of a reported 429 without reset time, by consecutive 429s (a success resets)"));
        k.add(dur(
                "selection.cooldowns.rate_limit_max",
                "1h",
                "longest cooldown of a 429 that announced its reset time or a Retry-After"));
        k.add(dur(
                "selection.cooldowns.quota_default",
                "1h",
                "cooldown of an exhausted quota reported without its window's reset time"));
        k.add(dur(
                "selection.cooldowns.quota_max",
                "168h",
                "longest cooldown of an exhausted quota (until its window resets, at most this)"));
        k.add(durs(
                "selection.cooldowns.overload_steps",
                "5s,15s,30s,60s",
                "cooldown of a reported 529 / 503 overload, by consecutive overloads (a success resets)"));
        k.add(durs(
                "selection.cooldowns.model_unsupported_steps",
                "30m",
                "cooldown of a model the account refused, for that model on that account only"));
        k.add(dur(
                "selection.cooldowns.streak_window",
                "10m",
                "a failure this long after the previous one of its class starts its escalation again"));
        k.add(
                dur(
                        "selection.load_view_max_age",
                        "250ms",
                        "how long a selector orders candidates by the loads it last read before reading them again (0s: every select reads them; 0s..10s)"));
        k.add(
                secret(
                        "selection.wait_ticket_secret",
                        "key that signs wait tickets, the same on every instance (32+ characters; empty: a random key per"
                                + " process, so a retry is accepted only by the instance that issued its ticket; never printed)"));
        k.add(b(
                "selection.prefer_soonest_reset",
                "false",
                "within a priority tier, try first the accounts whose reported quota window resets soonest"
                        + " (spend quota that is refilled anyway; no window: last)"));
        // selection.quota: default used-% thresholds of the quota windows; a card's own threshold wins
        k.add(i(
                "selection.quota.threshold_5h",
                "100",
                "used-% of the 5-hour quota window at which an account is skipped until it resets (1..100)"));
        k.add(i(
                "selection.quota.threshold_7d",
                "100",
                "used-% of the 7-day quota window at which an account is skipped until it resets (1..100)"));
        // selection.sticky: when a session's bound account is skipped for its reported health (decisions
        // SP2-1 to SP2-3); the binding stays, so the session returns once the account is healthy again
        k.add(
                i(
                        "selection.sticky.max_error_percent",
                        "50",
                        "reported error rate (%) above which a bound account is skipped for its session's request (1..100; 100 never skips)"));
        k.add(dur(
                "selection.sticky.max_ttft",
                "20s",
                "mean reported time-to-first-token above which a bound account is skipped (0s..1h; 0s never skips)"));
        k.add(
                i(
                        "selection.sticky.min_samples",
                        "5",
                        "weight of recent reports (1 each, halved every half_life) below which health skips nothing (1..10000)"));
        k.add(dur(
                "selection.sticky.half_life",
                "60s",
                "age at which a report weighs half in the error rate and time-to-first-token means (1s..24h)"));
        Map<String, ConfigKey> m = new LinkedHashMap<>();
        for (ConfigKey key : k) {
            if (m.put(key.path(), key) != null) {
                throw new IllegalStateException("duplicate config key " + key.path());
            }
        }
        ALL = Collections.unmodifiableMap(m);
    }

    private ConfigKeys() {}

    private static ConfigKey i(String p, String d, String m) {
        return new ConfigKey(p, ConfigKey.Type.INT, d, m, List.of());
    }

    private static ConfigKey b(String p, String d, String m) {
        return new ConfigKey(p, ConfigKey.Type.BOOL, d, m, List.of());
    }

    private static ConfigKey str(String p, String d, String m) {
        return new ConfigKey(p, ConfigKey.Type.STRING, d, m, List.of());
    }

    private static ConfigKey secret(String p, String m) {
        return new ConfigKey(p, ConfigKey.Type.SECRET, "", m, List.of());
    }

    private static ConfigKey url(String p, String m) {
        return new ConfigKey(p, ConfigKey.Type.URL, "", m, List.of());
    }

    private static ConfigKey dur(String p, String d, String m) {
        return new ConfigKey(p, ConfigKey.Type.DURATION, d, m, List.of());
    }

    private static ConfigKey durs(String p, String d, String m) {
        return new ConfigKey(p, ConfigKey.Type.DURATIONS, d, m, List.of());
    }

    private static ConfigKey e(String p, String d, String m, String... choices) {
        return new ConfigKey(p, ConfigKey.Type.ENUM, d, m, List.of(choices));
    }
}
