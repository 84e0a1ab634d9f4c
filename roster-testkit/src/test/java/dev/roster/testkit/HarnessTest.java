package dev.roster.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roster.embedded.EmbeddedRedis;
import dev.roster.embedded.RespConnection;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fault controls do what they say: proxy pause/partition, process stop/kill/start. */
class HarnessTest {
    private static final RedisHarness REDIS = RedisHarness.shared();

    @AfterEach
    void undoFaults() {
        REDIS.resume();
        REDIS.heal();
        REDIS.start();
    }

    private static RespConnection viaProxy(Duration timeout) {
        return RespConnection.open(REDIS.host(), REDIS.port(), timeout);
    }

    @Test
    void proxy_pauseHoldsBytesAndResumeDeliversThem() {
        try (RespConnection c = viaProxy(Duration.ofMillis(300))) {
            assertThat(c.command("PING")).isEqualTo("PONG");
            REDIS.pause();
            assertThatThrownBy(() -> c.command("PING")).isInstanceOf(UncheckedIOException.class);
        }
        REDIS.resume();
        try (RespConnection c = viaProxy(Duration.ofSeconds(5))) {
            assertThat(c.command("PING")).isEqualTo("PONG");
        }
    }

    @Test
    void proxy_partitionDropsConnectionsAndBlackholesNewOnes() {
        RespConnection before = viaProxy(Duration.ofSeconds(5));
        assertThat(before.command("PING")).isEqualTo("PONG");
        REDIS.partition();
        assertThatThrownBy(() -> before.command("PING")).isInstanceOf(UncheckedIOException.class);
        before.close();
        try (RespConnection during = viaProxy(Duration.ofMillis(300))) {
            assertThatThrownBy(() -> during.command("PING")).isInstanceOf(UncheckedIOException.class);
        }
        REDIS.heal();
        try (RespConnection after = viaProxy(Duration.ofSeconds(5))) {
            assertThat(after.command("PING")).isEqualTo("PONG");
        }
    }

    @Test
    void harness_stopAndStartKeepThePort() {
        String key = REDIS.keyPrefix(HarnessTest.class) + "k";
        REDIS.command("SET", key, "v");
        REDIS.stop();
        assertThat(REDIS.isRunning()).isFalse();
        REDIS.start();
        try (RespConnection c = viaProxy(Duration.ofSeconds(5))) {
            assertThat(c.command("PING")).isEqualTo("PONG");
            // The harness keeps no persistence: a restart is an empty Redis, like a flush.
            assertThat(c.command("GET", key)).isNull();
        }
    }

    @Test
    void embeddedRedis_persistentDataSurvivesGracefulStopButKillIsImmediate(@TempDir Path dir) {
        EmbeddedRedis r = EmbeddedRedis.builder().dataDir(dir).persistent(true).build();
        try {
            r.start();
            int port = r.port();
            try (RespConnection c = RespConnection.open(r.host(), port, Duration.ofSeconds(5))) {
                c.command("SET", "k", "v");
            }
            r.stop();
            r.start();
            assertThat(r.port()).isEqualTo(port);
            try (RespConnection c = RespConnection.open(r.host(), port, Duration.ofSeconds(5))) {
                assertThat(c.command("GET", "k")).isEqualTo("v");
            }
            r.kill();
            assertThat(r.isRunning()).isFalse();
        } finally {
            r.kill();
        }
    }

    @Test
    void keyPrefixes_areUniqueAndBraceFree() {
        String a = REDIS.keyPrefix(HarnessTest.class);
        String b = REDIS.keyPrefix(HarnessTest.class);
        assertThat(a).isNotEqualTo(b).doesNotContain("{", "}");
    }
}
