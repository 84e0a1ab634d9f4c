package dev.roster.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The message is shown to an operator as one line (found by the hostile config suite, issue 8). */
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
}
