package dev.roster.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roster.core.Group0Scope;
import dev.roster.core.RunMode;
import dev.roster.core.config.ConfigException;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.config.StickyHealthThresholds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    static final Path EXAMPLE = Path.of("..", "roster.example.yaml");

    @Test
    void the_example_file_lists_every_key_with_its_default_and_loads_to_the_defaults() throws Exception {
        String text = Files.readString(EXAMPLE);
        for (ConfigKey k : ConfigKeys.ALL.values()) {
            String leaf = k.path().substring(k.path().lastIndexOf('.') + 1);
            String value = k.defaultValue().isEmpty() ? "\"\"" : k.defaultValue();
            assertThat(text)
                    .as(k.path())
                    .containsPattern("(?m)^ *" + leaf + ": \"?" + java.util.regex.Pattern.quote(value.replace("\"", ""))
                            + "\"?$");
        }
        ConfigLoader.Loaded loaded = new ConfigLoader(Map.of(), dir).load(EXAMPLE);
        assertThat(loaded.warnings()).isEmpty();
        assertThat(loaded.config().service()).isEqualTo(ServiceConfig.DEFAULTS);
        assertThat(loaded.config())
                .isEqualTo(new ConfigLoader(Map.of(), dir).load(null).config());
        assertThat(loaded.config().database().embedded()).isTrue();
        assertThat(loaded.config().redis().embedded()).isTrue();
    }

    @Test
    void sub2api_spellings_build_the_urls_and_url_wins() throws Exception {
        Path f = dir.resolve("c.yaml");
        Files.writeString(f, """
                database:
                  host: db.internal
                  port: 5433
                  user: gw
                  password: "p@ss word"
                  dbname: sub2api
                  sslmode: require
                redis:
                  host: cache
                  password: "r:secret"
                  db: 2
                run_mode: simple
                scope:
                  group0: ungrouped
                gateway:
                  scheduling:
                    sticky_session_wait_timeout: 1m30s
                    db_fallback_max_qps: 50
                    snapshot_mget_chunk_size: 128
                    load_batch_cache_ttl_ms: 200
                """);
        ConfigLoader.Loaded l = new ConfigLoader(Map.of(), dir).load(f);
        RosterConfig c = l.config();
        assertThat(c.database().url()).isEqualTo("jdbc:postgresql://db.internal:5433/sub2api?sslmode=require");
        assertThat(c.database().user()).isEqualTo("gw");
        assertThat(c.database().password()).isEqualTo("p@ss word");
        assertThat(c.redis().url()).isEqualTo("redis://:r%3Asecret@cache:6379/2");
        assertThat(c.service().runMode()).isEqualTo(RunMode.SIMPLE);
        assertThat(c.service().scope().group0()).isEqualTo(Group0Scope.UNGROUPED);
        assertThat(c.service().scheduling().stickySessionWaitTimeout()).isEqualTo(Duration.ofSeconds(90));
        assertThat(c.service().scheduling().dbFallbackMaxQps()).isEqualTo(50);
        assertThat(l.warnings())
                .hasSize(2)
                .anyMatch(w -> w.contains("gateway.scheduling.snapshot_mget_chunk_size"))
                .anyMatch(w -> w.contains("gateway.scheduling.load_batch_cache_ttl_ms"));
        assertThat(c.toString())
                .doesNotContain("p@ss word")
                .doesNotContain("r:secret")
                .doesNotContain("r%3Asecret");

        Map<String, String> env = Map.of(
                "ROSTER_DATABASE_URL", "jdbc:postgresql://other/db",
                "ROSTER_REDIS_URL", "redis-cluster://a:1,b:2",
                "ROSTER_SERVER_ADMIN_TOKEN", "0123456789abcdef0123");
        RosterConfig e = new ConfigLoader(env, dir).load(f).config();
        assertThat(e.database().url()).isEqualTo("jdbc:postgresql://other/db");
        assertThat(e.redis().url()).isEqualTo("redis-cluster://a:1,b:2");
        assertThat(e.server().adminToken()).isEqualTo("0123456789abcdef0123");
    }

    @Test
    void roster_yaml_in_the_working_directory_is_the_default_file() throws Exception {
        Files.writeString(dir.resolve("roster.yaml"), "server:\n  port: 9999\n");
        ConfigLoader.Loaded l = new ConfigLoader(Map.of(), dir).load(null);
        assertThat(l.config().server().port()).isEqualTo(9999);
        assertThat(l.origin()).endsWith("roster.yaml");
    }

    @Test
    void selection_keys_load_from_file_and_environment_and_are_validated() throws Exception {
        Path f = dir.resolve("c.yaml");
        Files.writeString(f, """
                selection:
                  slot_lease_ttl: 90s
                  cooldowns:
                    overload_steps: 10s, 1m,5m
                gateway:
                  scheduling:
                    sticky_session_max_waiting: 7
                    load_batch_enabled: false
                """);
        RosterConfig c = new ConfigLoader(
                        Map.of("ROSTER_SELECTION_STICKY_TTL", "2h", "ROSTER_SELECTION_COOLDOWNS_QUOTA_DEFAULT", "30m"),
                        dir)
                .load(f)
                .config();
        assertThat(c.service().selection().slotLeaseTtl()).isEqualTo(Duration.ofSeconds(90));
        assertThat(c.service().selection().cooldowns().overloadSteps())
                .containsExactly(Duration.ofSeconds(10), Duration.ofMinutes(1), Duration.ofMinutes(5));
        assertThat(c.service().selection().cooldowns().quotaDefault()).isEqualTo(Duration.ofMinutes(30));
        assertThat(c.service().selection().cooldowns().rateLimitSteps())
                .isEqualTo(dev.roster.core.config.CooldownPolicy.DEFAULTS.rateLimitSteps());
        assertThat(c.service().selection().stickyTtl()).isEqualTo(Duration.ofHours(2));
        assertThat(c.service().scheduling().stickySessionMaxWaiting()).isEqualTo(7);
        assertThat(c.service().scheduling().loadBatchEnabled()).isFalse();
        Files.writeString(f, "selection:\n  slot_lease_ttl: 0s\n");
        assertThatThrownBy(() -> new ConfigLoader(Map.of(), dir).load(f))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("selection.slot_lease_ttl")
                .hasMessageContaining("0s");
        Files.writeString(f, "selection:\n  sticky_ttl: soon\n");
        assertThatThrownBy(() -> new ConfigLoader(Map.of(), dir).load(f))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("selection.sticky_ttl");
        // Cooldown steps: every element a duration, none negative or zero, named by the key.
        Files.writeString(f, "selection:\n  cooldowns:\n    rate_limit_steps: 5s,,45s\n");
        assertThatThrownBy(() -> new ConfigLoader(Map.of(), dir).load(f))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("selection.cooldowns.rate_limit_steps")
                .hasMessageContaining("5s,,45s");
        Files.writeString(f, "selection:\n  cooldowns:\n    overload_steps: 5s,0s\n");
        assertThatThrownBy(() -> new ConfigLoader(Map.of(), dir).load(f))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("selection.cooldowns.overload_steps");
        assertThatThrownBy(
                        () -> new ConfigLoader(Map.of("ROSTER_SELECTION_COOLDOWNS_QUOTA_MAX", "-1h"), dir).load(null))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("selection.cooldowns.quota_max");
    }

    @Test
    void quota_thresholds_load_from_file_and_environment_and_are_validated() throws Exception {
        Path f = dir.resolve("q.yaml");
        Files.writeString(f, "selection:\n  quota:\n    threshold_5h: 85\n");
        RosterConfig c = new ConfigLoader(Map.of("ROSTER_SELECTION_QUOTA_THRESHOLD_7D", "97"), dir)
                .load(f)
                .config();
        assertThat(c.service().selection().quota()).isEqualTo(new dev.roster.core.config.QuotaThresholds(85, 97));
        for (String bad : List.of("0", "101", "-3", "ninety")) {
            assertThatThrownBy(
                            () -> new ConfigLoader(Map.of("ROSTER_SELECTION_QUOTA_THRESHOLD_5H", bad), dir).load(null))
                    .as(bad)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("selection.quota.threshold_5h")
                    .hasMessageContaining(bad);
        }
    }

    @Test
    void prefer_soonest_reset_loads_from_file_and_environment_and_is_validated() throws Exception {
        assertThat(new ConfigLoader(Map.of(), dir)
                        .load(null)
                        .config()
                        .service()
                        .selection()
                        .preferSoonestReset())
                .isFalse();
        Path f = dir.resolve("s.yaml");
        Files.writeString(f, "selection:\n  prefer_soonest_reset: true\n");
        assertThat(new ConfigLoader(Map.of(), dir)
                        .load(f)
                        .config()
                        .service()
                        .selection()
                        .preferSoonestReset())
                .isTrue();
        assertThat(new ConfigLoader(Map.of("ROSTER_SELECTION_PREFER_SOONEST_RESET", "true"), dir)
                        .load(null)
                        .config()
                        .service()
                        .selection()
                        .preferSoonestReset())
                .isTrue();
        assertThatThrownBy(
                        () -> new ConfigLoader(Map.of("ROSTER_SELECTION_PREFER_SOONEST_RESET", "soon"), dir).load(null))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("selection.prefer_soonest_reset")
                .hasMessageContaining("soon");
    }

    @Test
    void sticky_health_thresholds_load_from_file_and_environment_and_are_validated() throws Exception {
        Path f = dir.resolve("s.yaml");
        Files.writeString(f, "selection:\n  sticky_ttl: 30m\n  sticky:\n    max_error_percent: 30\n    max_ttft: 8s\n");
        RosterConfig c = new ConfigLoader(
                        Map.of("ROSTER_SELECTION_STICKY_MIN_SAMPLES", "12", "ROSTER_SELECTION_STICKY_HALF_LIFE", "2m"),
                        dir)
                .load(f)
                .config();
        assertThat(c.service().selection().stickyHealth())
                .isEqualTo(new StickyHealthThresholds(30, Duration.ofSeconds(8), 12, Duration.ofMinutes(2)));
        assertThat(c.service().selection().stickyTtl()).isEqualTo(Duration.ofMinutes(30));
        assertThat(new ConfigLoader(Map.of(), dir)
                        .load(null)
                        .config()
                        .service()
                        .selection()
                        .stickyHealth())
                .isEqualTo(StickyHealthThresholds.DEFAULTS);
        Map<String, List<String>> bad = Map.of(
                "ROSTER_SELECTION_STICKY_MAX_ERROR_PERCENT", List.of("0", "101", "fifty", "50.5"),
                "ROSTER_SELECTION_STICKY_MAX_TTFT", List.of("-1s", "61m", "slow"),
                "ROSTER_SELECTION_STICKY_MIN_SAMPLES", List.of("0", "10001", "five"),
                "ROSTER_SELECTION_STICKY_HALF_LIFE", List.of("0s", "999ms", "25h", "1"));
        bad.forEach((env, values) -> {
            String key = "selection.sticky."
                    + env.substring("ROSTER_SELECTION_STICKY_".length()).toLowerCase(java.util.Locale.ROOT);
            for (String value : values) {
                assertThatThrownBy(() -> new ConfigLoader(Map.of(env, value), dir).load(null))
                        .as(env + "=" + value)
                        .isInstanceOf(ConfigException.class)
                        .hasMessageContaining(key)
                        .hasMessageContaining(value);
            }
        });
        Files.writeString(f, "selection:\n  sticky:\n    max_ttft_ms: 100\n");
        assertThatThrownBy(() -> new ConfigLoader(Map.of(), dir).load(f))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("selection.sticky.max_ttft_ms");
    }

    @Test
    void every_key_has_an_environment_name_and_null_values_mean_default() throws Exception {
        assertThat(ConfigKeys.ALL.get("server.admin_token").envName()).isEqualTo("ROSTER_SERVER_ADMIN_TOKEN");
        assertThat(ConfigKeys.ALL.get("gateway.scheduling.db_fallback_max_qps").envName())
                .isEqualTo("ROSTER_GATEWAY_SCHEDULING_DB_FALLBACK_MAX_QPS");
        Path f = dir.resolve("c.yaml");
        Files.writeString(f, "server:\n  port:\nselection:\n");
        assertThat(new ConfigLoader(Map.of(), dir).load(f).config().server().port())
                .isEqualTo(8090);
        Files.writeString(f, "selection:\n  strategy: x\n");
        assertThatThrownBy(() -> new ConfigLoader(Map.of(), dir).load(f))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("selection.strategy");
    }

    @Test
    void zero_wait_timeouts_are_refused_with_the_value_as_written() throws Exception {
        Path f = dir.resolve("c.yaml");
        Files.writeString(f, "gateway:\n  scheduling:\n    sticky_session_wait_timeout: 0s\n");
        assertThatThrownBy(() -> new ConfigLoader(Map.of(), dir).load(f))
                .isInstanceOf(ConfigException.class)
                .hasMessage("gateway.scheduling.sticky_session_wait_timeout = 0s (from c.yaml): expected a duration > 0"
                        + " such as 30s");
        Files.writeString(f, "gateway:\n  scheduling:\n    fallback_wait_timeout: 0\n");
        assertThatThrownBy(() -> new ConfigLoader(Map.of(), dir).load(f))
                .isInstanceOf(ConfigException.class)
                .hasMessage("gateway.scheduling.fallback_wait_timeout = 0 (from c.yaml): expected a duration > 0"
                        + " such as 30s");
        assertThatThrownBy(() -> new ConfigLoader(Map.of("ROSTER_GATEWAY_SCHEDULING_FALLBACK_WAIT_TIMEOUT", "0ms"), dir)
                        .load(null))
                .isInstanceOf(ConfigException.class)
                .hasMessage("gateway.scheduling.fallback_wait_timeout = 0ms (from environment"
                        + " ROSTER_GATEWAY_SCHEDULING_FALLBACK_WAIT_TIMEOUT): expected a duration > 0 such as 30s");
        Files.writeString(f, "gateway:\n  scheduling:\n    fallback_wait_timeout: 1ms\n");
        assertThat(new ConfigLoader(Map.of(), dir)
                        .load(f)
                        .config()
                        .service()
                        .scheduling()
                        .fallbackWaitTimeout())
                .isEqualTo(Duration.ofMillis(1));
    }

    @Test
    void a_mistyped_roster_variable_stops_the_start_naming_it_and_the_nearest_key() {
        Map<String, String> env = Map.of("ROSTER_GATEWAY_SCHEDULING_DB_FALLBACK_MAXQPS", "50", "HOME", "/root");
        assertThatThrownBy(() -> new ConfigLoader(env, dir).load(null))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(
                        "ROSTER_GATEWAY_SCHEDULING_DB_FALLBACK_MAXQPS = **** (from environment): expected"
                                + " a ROSTER_ variable that sets a known key: this one sets none (did you mean"
                                + " ROSTER_GATEWAY_SCHEDULING_DB_FALLBACK_MAX_QPS, key gateway.scheduling.db_fallback_max_qps?)")
                .hasMessageContaining("ROSTER_IGNORE_ENV")
                .satisfies(e -> assertThat(((ConfigException) e).key())
                        .isEqualTo("ROSTER_GATEWAY_SCHEDULING_DB_FALLBACK_MAXQPS"));
        // Lower case after the prefix is still Roster's, and still wrong.
        assertThatThrownBy(() -> new ConfigLoader(Map.of("ROSTER_server_port", "9000"), dir).load(null))
                .hasMessageContaining("did you mean ROSTER_SERVER_PORT, key server.port?");
        // Nothing near: no suggestion, still refused.
        assertThatThrownBy(() -> new ConfigLoader(Map.of("ROSTER_COLOUR", "blue"), dir).load(null))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("ROSTER_COLOUR = **** (from environment): expected a ROSTER_ variable that"
                        + " sets a known key: this one sets none; ");
    }

    @Test
    void a_mistyped_secret_variable_is_refused_without_showing_its_value() {
        assertThatThrownBy(() ->
                        new ConfigLoader(Map.of("ROSTER_SERVER_ADMIN_TOKNE", "hunter2hunter2hunter2"), dir).load(null))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("ROSTER_SERVER_ADMIN_TOKNE = **** (from environment)")
                .hasMessageContaining("did you mean ROSTER_SERVER_ADMIN_TOKEN")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void launcher_variables_and_listed_names_are_not_config() {
        Map<String, String> env = Map.of(
                "ROSTER_JAVA_OPTS", "-Xmx1g",
                "ROSTER_LOG_LEVEL", "DEBUG",
                "ROSTER_JAVA_HOME", "/usr/lib/jvm/x",
                "ROSTER_JVM_FLAGS", "",
                // What Kubernetes injects for a Service named roster, skipped on the operator's word.
                "ROSTER_IGNORE_ENV", "ROSTER_SERVICE_HOST, ROSTER_PORT*",
                "ROSTER_SERVICE_HOST", "10.0.0.7",
                "ROSTER_PORT", "tcp://10.0.0.7:8090",
                "ROSTER_PORT_8090_TCP_ADDR", "10.0.0.7",
                "ROSTER_SERVER_PORT", "9100");
        assertThat(new ConfigLoader(env, dir).load(null).config().server().port())
                .isEqualTo(9100);
        // The list names exact variables (or prefixes with *): a near miss is still refused.
        Map<String, String> near = Map.of("ROSTER_IGNORE_ENV", "ROSTER_SERVICE_HOST", "ROSTER_SERVICE_HOSTS", "x");
        assertThatThrownBy(() -> new ConfigLoader(near, dir).load(null))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("ROSTER_SERVICE_HOSTS = **** (from environment)");
    }

    @Test
    void go_durations() {
        assertThat(GoDurations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(GoDurations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(GoDurations.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
        assertThat(GoDurations.parse("0")).isZero();
        assertThat(GoDurations.parse("-2s")).isEqualTo(Duration.ofSeconds(-2));
        assertThat(GoDurations.format(Duration.ofSeconds(90))).isEqualTo("1m30s");
        assertThatThrownBy(() -> GoDurations.parse("5 seconds")).isInstanceOf(IllegalArgumentException.class);
    }
}
