package dev.roster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.roster.testkit.RedisHarness;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * An application that embeds Roster and logs through SLF4J receives Roster's own lines in its backend
 * (logback here, as a user would bring it), with their level, logger name and parameters filled in: no
 * second logging system beside the one the application configured (decision L1).
 */
class LogsThroughSlf4jTest {
    private final ListAppender<ILoggingEvent> captured = new ListAppender<>();
    private Logger root;

    @BeforeEach
    void capture() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        captured.setContext(context);
        captured.start();
        root.addAppender(captured);
    }

    @AfterEach
    void release() {
        root.detachAppender(captured);
        captured.stop();
    }

    @Test
    void aStartingRosterLogsItsLeaseAndFirstRebuildThroughTheApplicationsBackend() {
        Servers servers = new Servers(LogsThroughSlf4jTest.class, "slf4j");
        RedisHarness.shared().start();
        servers.openaiAccounts(3);
        try (Roster roster = servers.roster().build()) {
            await().until(roster::ready);
            await().untilAsserted(() -> {
                assertThat(events("dev.roster.core.replay.LeaseKeeper")).anySatisfy(e -> {
                    assertThat(e.getLevel()).isEqualTo(Level.INFO);
                    assertThat(e.getFormattedMessage())
                            .isEqualTo("replayer lease acquired; this instance replays the outbox");
                });
                // A parameterised line arrives with its values in place.
                assertThat(events("dev.roster.core.replay.FullRebuilder"))
                        .anySatisfy(e -> assertThat(e.getFormattedMessage())
                                .matches("full rebuild \\(.+\\) done: \\d+ buckets, \\d+ cards.*"));
            });
        }
    }

    private List<ILoggingEvent> events(String logger) {
        synchronized (captured) { // AppenderBase appends under its own lock
            return captured.list.stream()
                    .filter(e -> e.getLoggerName().equals(logger))
                    .toList();
        }
    }
}
