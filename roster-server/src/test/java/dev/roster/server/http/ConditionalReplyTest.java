package dev.roster.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The header rules of {@link ConditionalReply}: which {@code Accept-Encoding} means gzip, which tags match. */
class ConditionalReplyTest {
    @Test
    void gzipIsChosenOnlyWhenItsWeightIsAboveZero() {
        assertThat(ConditionalReply.acceptsGzip(null)).isFalse();
        assertThat(ConditionalReply.acceptsGzip("")).isFalse();
        assertThat(ConditionalReply.acceptsGzip("gzip")).isTrue();
        assertThat(ConditionalReply.acceptsGzip("deflate, GZIP;q=0.5")).isTrue();
        assertThat(ConditionalReply.acceptsGzip("x-gzip")).isTrue();
        assertThat(ConditionalReply.acceptsGzip("br")).isFalse();
        assertThat(ConditionalReply.acceptsGzip("gzip;q=0")).isFalse();
        assertThat(ConditionalReply.acceptsGzip("gzip;q=0.000")).isFalse();
        // An explicit refusal of gzip wins over the wildcard, wherever it stands.
        assertThat(ConditionalReply.acceptsGzip("*, gzip;q=0")).isFalse();
        assertThat(ConditionalReply.acceptsGzip("gzip;q=0, *")).isFalse();
        assertThat(ConditionalReply.acceptsGzip("*")).isTrue();
        assertThat(ConditionalReply.acceptsGzip("*;q=0")).isFalse();
        assertThat(ConditionalReply.acceptsGzip("gzip;q=abc"))
                .as("a malformed weight is ignored")
                .isTrue();
    }

    @Test
    void ifNoneMatchComparesWeaklyAndAcceptsAListOrTheWildcard() {
        String tag = "\"g.3.0\"";
        assertThat(ConditionalReply.matches(tag, tag)).isTrue();
        assertThat(ConditionalReply.matches("W/" + tag, tag)).isTrue();
        assertThat(ConditionalReply.matches("\"x\", " + tag, tag)).isTrue();
        assertThat(ConditionalReply.matches("*", tag)).isTrue();
        assertThat(ConditionalReply.matches("\"g.3.1\"", tag)).isFalse();
        assertThat(ConditionalReply.matches("g.3.0", tag))
                .as("an unquoted value is not the tag")
                .isFalse();
        assertThat(ConditionalReply.matches("", tag)).isFalse();
    }
}
