package dev.roster.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.roster.redis.RedisEndpoint.HostPort;
import dev.roster.redis.RedisEndpoint.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

class RedisEndpointTest {

    @Test
    void parse_standaloneWithDefaultsAndAuth() {
        RedisEndpoint e = RedisEndpoint.parse("redis://localhost");
        assertThat(e)
                .isEqualTo(new RedisEndpoint(
                        Kind.STANDALONE, List.of(new HostPort("localhost", 6379)), null, null, 0, false, null));

        RedisEndpoint a = RedisEndpoint.parse("rediss://app:p%40ss@10.0.0.1:6380/2");
        assertThat(a.tls()).isTrue();
        assertThat(a.username()).isEqualTo("app");
        assertThat(a.password()).isEqualTo("p@ss");
        assertThat(a.database()).isEqualTo(2);
        assertThat(a.toString()).doesNotContain("p@ss");

        assertThat(RedisEndpoint.parse("redis://secret@h:1").password()).isEqualTo("secret");
        assertThat(RedisEndpoint.parse("redis://[::1]:7000").nodes()).containsExactly(new HostPort("::1", 7000));
    }

    @Test
    void parse_sentinelAndCluster() {
        RedisEndpoint s = RedisEndpoint.parse("redis-sentinel://s1,s2:26380/1?master=mymaster");
        assertThat(s.kind()).isEqualTo(Kind.SENTINEL);
        assertThat(s.nodes()).containsExactly(new HostPort("s1", 26379), new HostPort("s2", 26380));
        assertThat(s.sentinelMaster()).isEqualTo("mymaster");
        assertThat(RedisEndpoint.parse("redis-sentinel://s1#m").sentinelMaster())
                .isEqualTo("m");

        RedisEndpoint c = RedisEndpoint.parse("redis-cluster://h1:7000,h2:7001,h3");
        assertThat(c.kind()).isEqualTo(Kind.CLUSTER);
        assertThat(c.nodes()).extracting(HostPort::port).containsExactly(7000, 7001, 6379);
    }

    @Test
    void parse_rejectsMalformedWithClearMessagesAndMaskedPassword() {
        assertThatThrownBy(() -> RedisEndpoint.parse("http://h")).hasMessageContaining("unknown scheme 'http'");
        assertThatThrownBy(() -> RedisEndpoint.parse("localhost:6379")).hasMessageContaining("missing scheme");
        assertThatThrownBy(() -> RedisEndpoint.parse("redis://:hunter2@h:99999"))
                .hasMessageContaining("port must be 1..65535")
                .hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> RedisEndpoint.parse("redis://h1,h2")).hasMessageContaining("several hosts");
        assertThatThrownBy(() -> RedisEndpoint.parse("redis-sentinel://s1")).hasMessageContaining("?master=");
        assertThatThrownBy(() -> RedisEndpoint.parse("redis-cluster://h1/3")).hasMessageContaining("no database");
        assertThatThrownBy(() -> RedisEndpoint.parse("redis://h/x")).hasMessageContaining("database must be a number");
        assertThatThrownBy(() -> RedisEndpoint.parse("redis://h?foo=1"))
                .hasMessageContaining("unknown parameter 'foo'");
        assertThatThrownBy(() -> RedisEndpoint.parse("")).hasMessageContaining("empty");
    }
}
