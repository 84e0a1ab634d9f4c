package dev.roster.server.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.roster.core.RunMode;
import dev.roster.core.config.ConfigException;
import dev.roster.core.config.CooldownPolicy;
import dev.roster.core.config.NearCacheConfig;
import dev.roster.core.config.ProjectionConfig;
import dev.roster.core.config.QuotaThresholds;
import dev.roster.core.config.ReplayConfig;
import dev.roster.core.config.SchedulingConfig;
import dev.roster.core.config.ScopeConfig;
import dev.roster.core.config.SelectionConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.config.StickyHealthThresholds;
import dev.roster.core.config.TicketSecret;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Reads the configuration (decision D15): the YAML file ({@code --config F}, else {@code ./roster.yaml}
 * when present, else only defaults), then the environment ({@code ROSTER_<KEY_PATH>} for every known
 * key, winning over the file; a {@code ROSTER_*} variable that sets no key is an error, see {@link
 * EnvironmentKeys}). The first invalid value stops loading with one {@link ConfigException}
 * whose message names the key, the value (masked for secrets), where it came from and what is
 * expected. Keys under {@code gateway.scheduling} that Roster does not use are accepted with one
 * warning each; unknown keys anywhere else are errors.
 */
public final class ConfigLoader {
    /** The file looked for in the working directory when no {@code --config} is given. */
    public static final String DEFAULT_FILE = "roster.yaml";

    private final Map<String, String> env;
    private final Path workingDir;

    /** A loader over the process environment and working directory. */
    public ConfigLoader() {
        this(System.getenv(), Path.of(""));
    }

    /** A loader over the given environment and working directory (tests). */
    public ConfigLoader(Map<String, String> env, Path workingDir) {
        this.env = Map.copyOf(env);
        this.workingDir = workingDir;
    }

    /**
     * The loaded configuration, where it came from and the warnings to log.
     *
     * @param config the validated configuration
     * @param origin the file read, or {@code "defaults"}
     * @param warnings one line per accepted-but-unused key
     */
    public record Loaded(RosterConfig config, String origin, List<String> warnings) {}

    /** One raw value and where it came from. */
    private record Raw(@Nullable JsonNode node, String text, String from) {}

    /**
     * Loads {@code explicit} (may be {@code null}) or the default file.
     *
     * @throws ConfigException for the first invalid value or an unreadable file
     */
    public Loaded load(@Nullable Path explicit) {
        Path file = explicit;
        if (file == null) {
            Path candidate = workingDir.resolve(DEFAULT_FILE);
            file = Files.isRegularFile(candidate) ? candidate : null;
        }
        Map<String, Raw> raw = new LinkedHashMap<>();
        List<String> warnings = new ArrayList<>();
        if (file != null) {
            readFile(file, raw, warnings);
        }
        for (Map.Entry<String, String> e : EnvironmentKeys.read(env).entrySet()) {
            raw.put(
                    e.getKey(),
                    new Raw(
                            null,
                            Objects.requireNonNull(env.get(e.getValue()), "read returns set variables"),
                            "environment " + e.getValue()));
        }
        Values values = new Values(raw);
        RosterConfig config = build(values);
        return new Loaded(config, file == null ? "defaults" : file.toString(), List.copyOf(warnings));
    }

    private static void readFile(Path file, Map<String, Raw> raw, List<String> warnings) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigException("--config", file, "a readable YAML file (it does not exist)");
        }
        JsonNode root;
        try {
            YAMLMapper yaml = YAMLMapper.builder()
                    .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                    .build();
            root = yaml.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            String where =
                    e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr();
            throw new ConfigException(
                    "--config",
                    file,
                    "valid YAML (" + e.getOriginalMessage().lines().findFirst().orElse("") + where + ")");
        } catch (IOException e) {
            throw new ConfigException("--config", file, "a readable YAML file (" + e.getMessage() + ")");
        }
        if (root == null || root instanceof MissingNode || root.isNull()) {
            return;
        }
        if (!root.isObject()) {
            throw new ConfigException("--config", file, "a YAML mapping of sections at the top level");
        }
        flatten("", root, file.getFileName().toString(), raw, warnings);
    }

    private static void flatten(
            String prefix, JsonNode node, String from, Map<String, Raw> raw, List<String> warnings) {
        Iterator<Map.Entry<String, JsonNode>> it = node.properties().iterator();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String path = prefix + e.getKey();
            JsonNode v = e.getValue();
            ConfigKey known = ConfigKeys.ALL.get(path);
            if (known != null) {
                if (v.isContainerNode()) {
                    throw new ConfigException(
                            path, "a " + (v.isArray() ? "list" : "mapping") + " (from " + from + ")", expected(known));
                }
                if (!v.isNull()) {
                    raw.put(path, new Raw(v, v.asText(), from));
                }
                continue;
            }
            boolean section = ConfigKeys.ALL.keySet().stream().anyMatch(k -> k.startsWith(path + "."))
                    || (path + ".").equals(ConfigKeys.SCHEDULING)
                    || path.equals("gateway");
            if (section) {
                if (v.isObject()) {
                    flatten(path + ".", v, from, raw, warnings);
                } else if (!v.isNull()) {
                    throw new ConfigException(
                            path, shown(path, v) + " (from " + from + ")", "a mapping (a section of keys)");
                }
                continue;
            }
            if (path.startsWith(ConfigKeys.SCHEDULING)) {
                // sub2api keeps adding scheduling keys and operators paste that section whole.
                warnings.add("config key " + path + " (in " + from + ") is not used by Roster; ignored");
                continue;
            }
            throw new ConfigException(
                    path,
                    shown(path, v) + " (from " + from + ")",
                    "no such key: it is unknown" + suggestion(path) + "; roster.example.yaml lists every key");
        }
    }

    private static String shown(String path, JsonNode v) {
        if (Secrets.looksSecret(path)) {
            return "****";
        }
        return v.isContainerNode() ? "a " + (v.isArray() ? "list" : "mapping") : v.asText();
    }

    private static String suggestion(String path) {
        String best = null;
        int bestD = Integer.MAX_VALUE;
        for (String k : ConfigKeys.ALL.keySet()) {
            int d = Levenshtein.distance(path, k);
            if (d < bestD) {
                bestD = d;
                best = k;
            }
        }
        return best != null && bestD <= 3 ? " (did you mean " + best + "?)" : "";
    }

    static String expected(ConfigKey k) {
        return switch (k.type()) {
            case INT -> "an integer";
            case BOOL -> "true or false";
            case STRING -> "a text value";
            case SECRET -> "a text value (a secret)";
            case URL -> "a URL";
            case DURATION -> "a duration such as 500ms, 30s, 2m or 1h30m";
            case DURATIONS -> "a comma-separated list of durations such as 5s,10s,45s";
            case ENUM -> "one of " + String.join(", ", k.choices());
        };
    }

    /** Typed access to the raw values, with defaults and key-naming errors. */
    private static final class Values {
        private final Map<String, Raw> raw;

        Values(Map<String, Raw> raw) {
            this.raw = raw;
        }

        private ConfigKey key(String path) {
            ConfigKey k = ConfigKeys.ALL.get(path);
            if (k == null) {
                throw new IllegalStateException("unregistered config key " + path);
            }
            return k;
        }

        boolean isSet(String path) {
            Raw r = raw.get(path);
            return r != null && !r.text().isEmpty();
        }

        String display(String path) {
            ConfigKey k = key(path);
            Raw r = raw.get(path);
            String text = r == null ? k.defaultValue() : r.text();
            String v = switch (k.type()) {
                case SECRET -> Secrets.mask(text);
                case URL -> Secrets.maskUrl(text);
                // A key whose name looks secret is never echoed, whatever its type: an operator who
                // pasted a token in the wrong place must not see it on the terminal or in CI logs.
                default -> Secrets.looksSecret(path) ? Secrets.mask(text) : text;
            };
            return v + (r == null ? " (default)" : " (from " + r.from() + ")");
        }

        ConfigException bad(String path, String expected) {
            return new ConfigException(path, display(path), expected);
        }

        String text(String path) {
            ConfigKey k = key(path);
            Raw r = raw.get(path);
            return r == null ? k.defaultValue() : r.text();
        }

        String string(String path) {
            return text(path).strip();
        }

        int integer(String path) {
            Raw r = raw.get(path);
            if (r != null
                    && r.node() != null
                    && r.node().isNumber()
                    && !r.node().isIntegralNumber()) {
                throw bad(path, "an integer");
            }
            if (r != null && r.node() != null && r.node().isBoolean()) {
                throw bad(path, "an integer");
            }
            try {
                return Integer.parseInt(text(path).strip());
            } catch (NumberFormatException e) {
                throw bad(path, "an integer");
            }
        }

        boolean bool(String path) {
            String t = text(path).strip().toLowerCase(Locale.ROOT);
            return switch (t) {
                case "true" -> true;
                case "false" -> false;
                default -> throw bad(path, "true or false");
            };
        }

        Duration duration(String path) {
            Raw r = raw.get(path);
            if (r != null && r.node() != null && r.node().isNumber() && r.node().asDouble() != 0) {
                // A bare number is ambiguous (Go reads it as nanoseconds); ask for a unit.
                throw bad(path, "a duration with a unit such as 500ms, 30s, 2m or 1h30m");
            }
            try {
                return GoDurations.parse(text(path));
            } catch (IllegalArgumentException e) {
                throw bad(path, "a duration such as 500ms, 30s, 2m or 1h30m");
            }
        }

        String choice(String path) {
            ConfigKey k = key(path);
            String t = string(path);
            if (!k.choices().contains(t)) {
                throw bad(path, "one of " + String.join(", ", k.choices()));
            }
            return t;
        }

        /** Runs a core record's validation and re-renders its error with the value as the operator wrote it. */
        List<Duration> durations(String path) {
            Raw r = raw.get(path);
            if (r != null && r.node() != null && r.node().isNumber()) {
                throw bad(path, "a comma-separated list of durations with units such as 5s,10s,45s");
            }
            List<Duration> out = new ArrayList<>();
            for (String part : text(path).split(",", -1)) {
                try {
                    out.add(GoDurations.parse(part.strip()));
                } catch (IllegalArgumentException e) {
                    throw bad(path, "a comma-separated list of durations such as 5s,10s,45s");
                }
            }
            return out;
        }

        <T> T validated(java.util.function.Supplier<T> build) {
            try {
                return build.get();
            } catch (ConfigException e) {
                if (!ConfigKeys.ALL.containsKey(e.key())) {
                    throw e;
                }
                throw new ConfigException(e.key(), display(e.key()), e.expected());
            }
        }
    }

    private static RosterConfig build(Values v) {
        // Parse every known key once so a wrong type is reported even for keys no record reads yet.
        for (ConfigKey k : ConfigKeys.ALL.values()) {
            switch (k.type()) {
                case INT -> v.integer(k.path());
                case BOOL -> v.bool(k.path());
                case DURATION -> v.duration(k.path());
                case DURATIONS -> v.durations(k.path());
                case ENUM -> v.choice(k.path());
                default -> v.text(k.path());
            }
        }
        String s = ConfigKeys.SCHEDULING;
        SchedulingConfig scheduling = v.validated(() -> new SchedulingConfig(
                v.integer(s + "sticky_session_max_waiting"),
                v.duration(s + "sticky_session_wait_timeout"),
                v.duration(s + "fallback_wait_timeout"),
                v.integer(s + "fallback_max_waiting"),
                v.bool(s + "load_batch_enabled"),
                v.duration(s + "slot_cleanup_interval"),
                v.bool(s + "db_fallback_enabled"),
                v.integer(s + "db_fallback_timeout_seconds"),
                v.integer(s + "db_fallback_max_qps"),
                v.integer(s + "outbox_poll_interval_seconds"),
                v.integer(s + "outbox_lag_warn_seconds"),
                v.integer(s + "outbox_lag_rebuild_seconds"),
                v.integer(s + "outbox_lag_rebuild_failures"),
                v.integer(s + "outbox_backlog_rebuild_rows"),
                v.integer(s + "full_rebuild_interval_seconds")));
        ReplayConfig replay = v.validated(() -> new ReplayConfig(
                v.integer("replay.batch_size"),
                v.integer("replay.max_applied"),
                v.integer("replay.max_attempts"),
                v.duration("replay.retry_backoff"),
                v.duration("replay.retry_backoff_max"),
                v.duration("replay.retention"),
                v.integer("replay.retention_batch_size"),
                v.duration("replay.retention_interval"),
                v.integer("replay.rebuild_parallelism")));
        ProjectionConfig projection = v.validated(() -> new ProjectionConfig(
                v.duration("projection.lease_ttl"),
                v.duration("projection.lease_renew"),
                v.duration("projection.grace")));
        ScopeConfig scope = v.validated(() -> ScopeConfig.parse(v.choice("scope.group0")));
        RunMode runMode = RunMode.valueOf(v.choice("run_mode").toUpperCase(Locale.ROOT));
        NearCacheConfig nearCache = v.validated(() -> new NearCacheConfig(
                v.bool("near_cache.enabled"),
                v.duration("near_cache.max_stale"),
                v.duration("near_cache.check_interval"),
                v.integer("near_cache.max_buckets"),
                v.duration("near_cache.last_used_flush_interval")));
        String c = "selection.cooldowns.";
        CooldownPolicy cooldowns = v.validated(() -> new CooldownPolicy(
                v.durations(c + "rate_limit_steps"),
                v.duration(c + "rate_limit_max"),
                v.duration(c + "quota_default"),
                v.duration(c + "quota_max"),
                v.durations(c + "overload_steps"),
                v.durations(c + "model_unsupported_steps"),
                v.duration(c + "streak_window")));
        QuotaThresholds quota = v.validated(() -> new QuotaThresholds(
                v.integer("selection.quota.threshold_5h"), v.integer("selection.quota.threshold_7d")));
        String st = "selection.sticky.";
        StickyHealthThresholds stickyHealth = v.validated(() -> new StickyHealthThresholds(
                v.integer(st + "max_error_percent"),
                v.duration(st + "max_ttft"),
                v.integer(st + "min_samples"),
                v.duration(st + "half_life")));
        SelectionConfig selection = v.validated(() -> new SelectionConfig(
                v.duration("selection.slot_lease_ttl"),
                v.duration("selection.sticky_ttl"),
                v.duration("selection.auth_failure_cooldown"),
                cooldowns,
                quota,
                v.duration("selection.load_view_max_age"),
                waitTicketSecret(v),
                stickyHealth));
        selection = selection.withPreferSoonestReset(v.bool("selection.prefer_soonest_reset"));
        ServiceConfig service = new ServiceConfig(runMode, scheduling, replay, projection, scope, nearCache, selection);

        RosterConfig.Database database = database(v);
        RosterConfig.Redis redis = redis(v);
        RosterConfig.Server server = server(v);
        String dataDir = v.string("embedded.data_dir");
        if (dataDir.isEmpty()) {
            throw v.bad("embedded.data_dir", "a folder path");
        }
        RosterConfig.Embedded embedded = new RosterConfig.Embedded(v.bool("embedded.enabled"), Path.of(dataDir));
        if (!embedded.enabled() && (database.embedded() || redis.embedded())) {
            String missing = database.embedded() ? "database.url or database.host" : "redis.url or redis.host";
            throw v.bad("embedded.enabled", "true, or set " + missing + " (no store is configured for it)");
        }
        return new RosterConfig(database, redis, server, embedded, service, watch(v));
    }

    private static RosterConfig.Watch watch(Values v) {
        int clients = v.integer("server.watch_max_clients");
        if (clients < 1 || clients > 100_000) {
            throw v.bad("server.watch_max_clients", "an integer between 1 and 100000");
        }
        int buckets = v.integer("server.watch_max_buckets");
        if (buckets < 1 || buckets > 1000) {
            throw v.bad("server.watch_max_buckets", "an integer between 1 and 1000");
        }
        Duration heartbeat = v.duration("server.watch_heartbeat");
        if (heartbeat.compareTo(Duration.ofSeconds(1)) < 0 || heartbeat.compareTo(Duration.ofSeconds(25)) > 0) {
            throw v.bad(
                    "server.watch_heartbeat",
                    "a duration between 1s and 25s (below Jetty's 30 s idle timeout, which would close an idle stream)");
        }
        int queue = v.integer("server.watch_queue");
        if (queue < 1 || queue > 10_000) {
            throw v.bad("server.watch_queue", "an integer between 1 and 10000");
        }
        return new RosterConfig.Watch(clients, buckets, heartbeat, queue);
    }

    private static RosterConfig.Database database(Values v) {
        int pool = v.integer("database.pool_size");
        if (pool < 1 || pool > 200) {
            throw v.bad("database.pool_size", "an integer between 1 and 200");
        }
        int port = v.integer("database.port");
        if (port < 1 || port > 65535) {
            throw v.bad("database.port", "a port between 1 and 65535");
        }
        String user = v.string("database.user");
        String password = v.text("database.password");
        boolean migrate = v.bool("database.migrate");
        String url;
        if (v.isSet("database.url")) {
            url = v.string("database.url");
            if (!url.startsWith("jdbc:postgresql://")) {
                throw v.bad("database.url", "a JDBC URL starting with jdbc:postgresql://");
            }
        } else if (v.isSet("database.host")) {
            String host = v.string("database.host");
            if (host.contains("/") || host.contains("?") || host.contains("@")) {
                throw v.bad("database.host", "a host name or address");
            }
            String db = v.string("database.dbname");
            if (db.isEmpty()) {
                throw v.bad("database.dbname", "a database name");
            }
            url = "jdbc:postgresql://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/"
                    + URLEncoder.encode(db, StandardCharsets.UTF_8) + "?sslmode=" + v.choice("database.sslmode");
        } else {
            url = null;
        }
        if (user.isEmpty() && url != null) {
            throw v.bad("database.user", "a user name");
        }
        return new RosterConfig.Database(url, user, password, pool, migrate);
    }

    private static RosterConfig.Redis redis(Values v) {
        String prefix = v.text("redis.key_prefix");
        if (!prefix.matches("[A-Za-z0-9_.:-]{0,100}")) {
            throw v.bad("redis.key_prefix", "up to 100 characters of [A-Za-z0-9_.:-]");
        }
        int port = v.integer("redis.port");
        if (port < 1 || port > 65535) {
            throw v.bad("redis.port", "a port between 1 and 65535");
        }
        int db = v.integer("redis.db");
        if (db < 0 || db > 15) {
            throw v.bad("redis.db", "a database number between 0 and 15");
        }
        String url;
        if (v.isSet("redis.url")) {
            url = v.string("redis.url");
            try {
                dev.roster.redis.RedisEndpoint.parse(url);
            } catch (IllegalArgumentException e) {
                throw v.bad(
                        "redis.url",
                        "a redis://, rediss://, redis-sentinel:// or redis-cluster:// URI (" + e.getMessage() + ")");
            }
        } else if (v.isSet("redis.host")) {
            String host = v.string("redis.host");
            if (host.contains("/") || host.contains("@")) {
                throw v.bad("redis.host", "a host name or address");
            }
            String password = v.text("redis.password");
            String auth = password.isEmpty() ? "" : ":" + URLEncoder.encode(password, StandardCharsets.UTF_8) + "@";
            url = "redis://" + auth + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/" + db;
        } else {
            url = null;
        }
        return new RosterConfig.Redis(url, prefix);
    }

    /** {@code selection.wait_ticket_secret}: empty draws a key for this process (decision SP1). */
    private static TicketSecret waitTicketSecret(Values v) {
        String secret = v.text("selection.wait_ticket_secret");
        if (secret.isEmpty()) {
            return SelectionConfig.DEFAULTS.waitTicketSecret();
        }
        if (secret.length() < TicketSecret.MIN_LENGTH || secret.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
            throw v.bad(
                    "selection.wait_ticket_secret",
                    "at least " + TicketSecret.MIN_LENGTH + " printable characters without spaces, the same on"
                            + " every instance (e.g. the output of openssl rand -hex 32), or empty");
        }
        return TicketSecret.of(secret);
    }

    private static RosterConfig.Server server(Values v) {
        String host = v.string("server.host");
        if (host.isEmpty()) {
            throw v.bad("server.host", "an address to bind to, such as 127.0.0.1 or 0.0.0.0");
        }
        int port = v.integer("server.port");
        if (port < 0 || port > 65535) {
            throw v.bad("server.port", "a port between 0 and 65535");
        }
        String admin = v.text("server.admin_token");
        String api = v.text("server.api_token");
        for (String k : List.of("server.admin_token", "server.api_token")) {
            String t = v.text(k);
            if (!t.isEmpty()
                    && (t.length() < 16 || !t.strip().equals(t) || t.chars().anyMatch(c -> c < 0x21 || c > 0x7e))) {
                throw v.bad(k, "at least 16 printable characters without spaces, or empty");
            }
        }
        boolean adminEnabled = v.bool("server.admin_enabled");
        if (adminEnabled && admin.isEmpty() && !isLoopback(host)) {
            throw v.bad(
                    "server.admin_token",
                    "a token: the admin API is enabled and server.host (" + host
                            + ") is not a loopback address (or set server.admin_enabled: false)");
        }
        int maxConcurrent = v.integer("server.max_concurrent_requests");
        if (maxConcurrent < 1 || maxConcurrent > 100_000) {
            throw v.bad("server.max_concurrent_requests", "an integer between 1 and 100000");
        }
        Duration timeout = v.duration("server.request_timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw v.bad("server.request_timeout", "a positive duration such as 10s");
        }
        int maxBody = v.integer("server.max_body_bytes");
        if (maxBody < 1024) {
            throw v.bad("server.max_body_bytes", "an integer >= 1024");
        }
        Duration shutdown = v.duration("server.shutdown_timeout");
        if (shutdown.isNegative()) {
            throw v.bad("server.shutdown_timeout", "a duration >= 0 such as 20s");
        }
        return new RosterConfig.Server(host, port, admin, api, adminEnabled, maxConcurrent, timeout, maxBody, shutdown);
    }

    /** Whether {@code host} is a loopback name or literal; no DNS lookup for other names. */
    public static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        if (!host.matches("[0-9.]+|[0-9a-fA-F:]+")) {
            return false;
        }
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (IOException e) {
            return false;
        }
    }

    /** The environment variable names of every known key (for {@code --help} text and docs). */
    public static Optional<ConfigKey> byEnv(String name) {
        return ConfigKeys.ALL.values().stream()
                .filter(k -> k.envName().equals(name))
                .findFirst();
    }
}
