package dev.roster.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.testkit.PostgresHarness;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The listener reconnects after the server restarts. Restarting affects every database of the JVM,
 * so this class runs last and leaves the server running.
 */
@Order(Integer.MAX_VALUE)
class ListenerRestartTest {
    static PgFixture pg;

    @BeforeAll
    static void setUp() {
        pg = PgFixture.migrated("listener_restart");
    }

    @AfterAll
    static void tearDown() {
        PostgresHarness.shared().start();
        pg.close();
    }

    @Test
    void listenerReconnectsAfterRestart_andWakesAgain() {
        AtomicInteger wakes = new AtomicInteger();
        try (OutboxListener l = OutboxListener.start(
                pg.db::connect, wakes::incrementAndGet, Duration.ofMillis(200), Duration.ofMillis(500))) {
            await().atMost(Duration.ofSeconds(10)).until(l::connected);

            PostgresHarness.shared().restart();

            await().atMost(Duration.ofSeconds(30)).until(() -> l.connections() >= 2 && l.connected());
            int before = wakes.get();
            pg.account("after-restart", "openai");
            await().atMost(Duration.ofSeconds(10)).until(() -> wakes.get() > before);
            assertThat(l.connected()).isTrue();
        }
    }
}
