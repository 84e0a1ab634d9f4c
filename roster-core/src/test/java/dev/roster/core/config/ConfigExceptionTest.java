package dev.roster.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The message is shown to an operator as one line (found by the hostile config suite, {@code HostileConfigIT}). */
class ConfigExceptionTest {
    @Test
    void a_value_with_line_breaks_and_control_characters_stays_on_one_line() {
        ConfigException e = new ConfigException("server.port", "eighty\neighty-one\r\t\u0000", "an integer");
        assertThat(e.getMessage())
                .isEqualTo("server.port = eighty\\neighty-one\\r\\t\\u0000: expected an integer")
                .doesNotContain("\n");
        assertThat(e.key()).isEqualTo("server.port");
    }

    @Test
    void a_blank_key_is_quoted() {
        assertThat(new ConfigException("", 0, "no such key").getMessage()).isEqualTo("\"\" = 0: expected no such key");
    }

    @Test
    void ordinary_messages_are_unchanged() {
        assertThat(new ConfigException("scope.group0", "some", "one of all, ungrouped").getMessage())
                .isEqualTo("scope.group0 = some: expected one of all, ungrouped");
    }

    @Test
    void what_is_expected_is_kept_apart_from_the_message() {
        // A caller re-renders the error with its own view of the value; it must not have to parse the text.
        ConfigException e = new ConfigException("replay.batch_size", "x: expected y", "an integer > 0");
        assertThat(e.expected()).isEqualTo("an integer > 0");
    }

    @Test
    void zero_wait_timeouts_are_refused_naming_the_key() {
        // sub2api refuses <= 0; reading 0 as "never wait" would queue requests for nothing.
        assertThatThrownBy(() -> SchedulingConfig.DEFAULTS.toBuilder()
                        .stickySessionWaitTimeout(Duration.ZERO)
                        .build())
                .isInstanceOf(ConfigException.class)
                .hasMessage(
                        "gateway.scheduling.sticky_session_wait_timeout = PT0S: expected a duration > 0 such as 30s");
        assertThatThrownBy(() -> SchedulingConfig.DEFAULTS.toBuilder()
                        .fallbackWaitTimeout(Duration.ZERO)
                        .build())
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("gateway.scheduling.fallback_wait_timeout = PT0S: expected a duration > 0");
        assertThatThrownBy(() -> SchedulingConfig.DEFAULTS.toBuilder()
                        .fallbackWaitTimeout(Duration.ofSeconds(-1))
                        .build())
                .hasMessageStartingWith("gateway.scheduling.fallback_wait_timeout = PT-1S: expected a duration > 0");
        assertThat(SchedulingConfig.DEFAULTS.toBuilder()
                        .stickySessionWaitTimeout(Duration.ofMillis(1))
                        .fallbackWaitTimeout(Duration.ofMillis(1))
                        .build()
                        .fallbackWaitTimeout())
                .isEqualTo(Duration.ofMillis(1));
    }
}
