package dev.roster.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code roster serve} with an invalid configuration, run from the built jar: exit code 2 and exactly
 * one line naming the key, the value (secrets masked) and what is expected. Nothing is started.
 */
class ConfigErrorsIT {
    @TempDir
    Path dir;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(
                        "unknown key",
                        "server:\n  prot: 8080\n",
                        Map.of(),
                        "server.prot = 8080 (from c.yaml): expected no such key: it is unknown (did you mean server.port?);"
                                + " roster.example.yaml lists every key"),
                Arguments.of(
                        "unknown section",
                        "logging:\n  level: debug\n",
                        Map.of(),
                        "logging = a mapping (from c.yaml): expected no such key: it is unknown; roster.example.yaml lists"
                                + " every key"),
                Arguments.of(
                        "wrong type",
                        "server:\n  port: eighty\n",
                        Map.of(),
                        "server.port = eighty (from c.yaml): expected an integer"),
                Arguments.of(
                        "negative interval",
                        "gateway:\n  scheduling:\n    outbox_poll_interval_seconds: -1\n",
                        Map.of(),
                        "gateway.scheduling.outbox_poll_interval_seconds = -1 (from c.yaml): expected an integer > 0"),
                Arguments.of(
                        "rebuild threshold below warn threshold",
                        "gateway:\n  scheduling:\n    outbox_lag_warn_seconds: 10\n    outbox_lag_rebuild_seconds: 5\n",
                        Map.of(),
                        "gateway.scheduling.outbox_lag_rebuild_seconds = 5 (from c.yaml): expected a value >="
                                + " outbox_lag_warn_seconds (10) or 0 to disable"),
                Arguments.of(
                        "duration without unit",
                        "gateway:\n  scheduling:\n    sticky_session_wait_timeout: 120\n",
                        Map.of(),
                        "gateway.scheduling.sticky_session_wait_timeout = 120 (from c.yaml): expected a duration with a"
                                + " unit such as 500ms, 30s, 2m or 1h30m"),
                Arguments.of(
                        "bad duration",
                        "replay:\n  retry_backoff: soon\n",
                        Map.of(),
                        "replay.retry_backoff = soon (from c.yaml): expected a duration such as 500ms, 30s, 2m or 1h30m"),
                Arguments.of(
                        "bad enum",
                        "scope:\n  group0: some\n",
                        Map.of(),
                        "scope.group0 = some (from c.yaml): expected one of all, ungrouped"),
                Arguments.of(
                        "short token is masked",
                        "server:\n  admin_token: hunter2\n",
                        Map.of(),
                        "server.admin_token = **** (from c.yaml): expected at least 16 printable characters without"
                                + " spaces, or empty"),
                Arguments.of(
                        "admin without token off loopback",
                        "server:\n  host: 0.0.0.0\n",
                        Map.of(),
                        "server.admin_token = (empty) (default): expected a token: the admin API is enabled and"
                                + " server.host (0.0.0.0) is not a loopback address (or set server.admin_enabled: false)"),
                Arguments.of(
                        "environment value",
                        "",
                        Map.of("ROSTER_SERVER_PORT", "abc"),
                        "server.port = abc (from environment ROSTER_SERVER_PORT): expected an integer"),
                Arguments.of(
                        "mistyped environment variable",
                        "",
                        Map.of("ROSTER_GATEWAY_SCHEDULING_DB_FALLBACK_MAXQPS", "50"),
                        "ROSTER_GATEWAY_SCHEDULING_DB_FALLBACK_MAXQPS = **** (from environment): expected a ROSTER_"
                                + " variable that sets a known key: this one sets none (did you mean"
                                + " ROSTER_GATEWAY_SCHEDULING_DB_FALLBACK_MAX_QPS, key"
                                + " gateway.scheduling.db_fallback_max_qps?)"),
                Arguments.of(
                        "zero wait timeout",
                        "gateway:\n  scheduling:\n    fallback_wait_timeout: 0s\n",
                        Map.of(),
                        "gateway.scheduling.fallback_wait_timeout = 0s (from c.yaml): expected a duration > 0 such as"
                                + " 30s"),
                Arguments.of(
                        "password in a url is masked",
                        "redis:\n  url: \"http://:hunter2@cache:6379\"\n",
                        Map.of(),
                        "redis.url = http://****@cache:6379 (from c.yaml): expected a redis://, rediss://,"
                                + " redis-sentinel:// or redis-cluster:// URI"),
                Arguments.of(
                        "lease renew not below ttl",
                        "projection:\n  lease_ttl: 5s\n  lease_renew: 5s\n",
                        Map.of(),
                        "projection.lease_renew = 5s (from c.yaml): expected a duration below projection.lease_ttl"),
                Arguments.of("not YAML", "server: [unclosed\n", Map.of(), "--config = c.yaml: expected valid YAML"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void invalid_config_is_one_line_and_exit_2(String name, String yaml, Map<String, String> env, String expected)
            throws Exception {
        Files.writeString(dir.resolve("c.yaml"), yaml);
        ServerJar.Result r = ServerJar.run(dir, env, Duration.ofSeconds(60), "serve", "--config", "c.yaml");
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.err().lines()).as(r.err()).hasSize(1);
        assertThat(r.err()).startsWith("roster: invalid configuration: " + expected);
        assertThat(r.err()).doesNotContain("hunter2").doesNotContain("\tat ");
        assertThat(r.out()).isEmpty();
        assertThat(dir.resolve(".roster-data")).doesNotExist();
    }

    @Test
    void help_is_on_every_command() throws Exception {
        for (String cmd : new String[] {"serve", "demo", "migrate", "rebuild", "outbox", "buckets", "audit"}) {
            ServerJar.Result r = ServerJar.run(dir, Map.of(), Duration.ofSeconds(60), cmd, "--help");
            assertThat(r.code()).as(cmd + ": " + r.err()).isZero();
            assertThat(r.out()).as(cmd).contains("Usage: roster " + cmd);
        }
    }
}
