package dev.roster.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.projection.ProjectionUnavailableException;
import dev.roster.testkit.RedisHarness;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The one rule for Redis error replies ({@link RedisErrors}): a table of replies as Redis servers send
 * them, and replies provoked on a real server, through the projection.
 */
class RedisErrorsTest {
    private static final RedisHarness REDIS = RedisHarness.shared();

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "LOADING Redis is loading the dataset in memory | OUTAGE",
                "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE. | OUTAGE",
                "CLUSTERDOWN The cluster is down | OUTAGE",
                "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'. | OUTAGE",
                "TRYAGAIN Multiple keys request during rehashing of slot | OUTAGE",
                "READONLY You can't write against a read only replica. | OUTAGE",
                "OOM command not allowed when used memory > 'maxmemory'. | OUTAGE",
                "NOREPLICAS Not enough good replicas to write. | OUTAGE",
                "MOVED 3999 127.0.0.1:6381 | OUTAGE",
                "ASK 3999 127.0.0.1:6381 | OUTAGE",
                "NOAUTH Authentication required. | OUTAGE",
                "WRONGPASS invalid username-password pair or user is disabled. | OUTAGE",
                "NOPERM User default has no permissions to run the 'evalsha' command | OUTAGE",
                "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. | OUTAGE",
                "WRONGTYPE Operation against a key holding the wrong kind of value | WRONG_TYPE",
                "ERR unknown command 'FOO', with args beginning with: | DEFECT",
                "ERR user_script:3: attempt to compare nil with number script: 1f2e, on @user_script:3. | DEFECT",
                "EXECABORT Transaction discarded because of previous errors. | DEFECT",
                "SOMENEWCODE a code this rule does not know | DEFECT",
            })
    void aReplyIsClassifiedByItsCode(String reply, RedisErrors.Kind kind) {
        assertThat(RedisErrors.kind(reply.strip())).isEqualTo(kind);
    }

    @Test
    void anEmptyOrMissingReplyIsADefect() {
        assertThat(RedisErrors.kind(null)).isEqualTo(RedisErrors.Kind.DEFECT);
        assertThat(RedisErrors.kind("")).isEqualTo(RedisErrors.Kind.DEFECT);
    }

    @Test
    void repliesProvokedOnARealServer() {
        assertThat(RedisErrors.kind(reply("HSET", "roster-errors-" + UUID.randomUUID(), "f", "v", "x")))
                .isEqualTo(RedisErrors.Kind.DEFECT);
        String str = "roster-errors-" + UUID.randomUUID();
        REDIS.command("SET", str, "v");
        assertThat(RedisErrors.kind(reply("HGET", str, "f"))).isEqualTo(RedisErrors.Kind.WRONG_TYPE);
        assertThat(RedisErrors.kind(reply("EVAL", "return redis.call('INCR', KEYS[1])", "1", str)))
                .isEqualTo(RedisErrors.Kind.DEFECT);
        REDIS.command("CONFIG", "SET", "maxmemory", "1");
        try {
            assertThat(RedisErrors.kind(reply("SET", str, "w"))).isEqualTo(RedisErrors.Kind.OUTAGE);
        } finally {
            REDIS.command("CONFIG", "SET", "maxmemory", "0");
        }
    }

    @Test
    void anOutOfMemoryServerIsAnOutageOfTheProjection() {
        String prefix = "errors-" + UUID.randomUUID();
        try (RedisProjection p = RedisProjection.connect(
                RedisConnectionOptions.of(REDIS.uri()).withCommandTimeout(Duration.ofSeconds(10)),
                TestRedis.RESOURCES,
                prefix,
                Duration.ofSeconds(60))) {
            Bucket b = new Bucket(1, "openai", Mode.SINGLE);
            REDIS.command("CONFIG", "SET", "maxmemory", "1");
            try {
                assertThatThrownBy(() -> p.allocateVersion(b))
                        .isInstanceOf(ProjectionUnavailableException.class)
                        .hasMessageContaining("OOM");
            } finally {
                REDIS.command("CONFIG", "SET", "maxmemory", "0");
            }
            assertThat(p.allocateVersion(b)).isPresent();
        }
    }

    /** The error reply a real server sends for the command. */
    private static String reply(String... command) {
        try {
            REDIS.command(command);
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof dev.roster.embedded.RespConnection.RespException) {
                    return t.getMessage();
                }
            }
            throw e;
        }
        throw new AssertionError("no error reply for " + String.join(" ", command));
    }
}
