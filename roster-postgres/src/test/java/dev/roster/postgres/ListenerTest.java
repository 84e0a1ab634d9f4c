package dev.roster.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The LISTEN wake-up arrives on commit, once per transaction, and not for rolled-back work. */
class ListenerTest {
    static PgFixture pg;

    @BeforeAll
    static void setUp() {
        pg = PgFixture.migrated("listener");
    }

    @AfterAll
    static void tearDown() {
        pg.close();
    }

    @Test
    void wakeUpArrivesOnCommit() throws Exception {
        AtomicInteger wakes = new AtomicInteger();
        try (OutboxListener l = OutboxListener.start(pg.db::connect, wakes::incrementAndGet)) {
            await().atMost(Duration.ofSeconds(10)).until(l::connected);
            await().atMost(Duration.ofSeconds(10)).until(() -> wakes.get() == 1); // the on-connect wake
            long a = pg.account("listened", "openai");
            await().atMost(Duration.ofSeconds(10)).until(() -> wakes.get() == 2);

            // A transaction writing many events notifies once, at commit: a rolled-back one never.
            try (Connection c = pg.bare()) {
                c.setAutoCommit(false);
                try (Statement st = c.createStatement()) {
                    st.execute("UPDATE accounts SET priority = 1 WHERE id = " + a);
                    st.execute("UPDATE accounts SET priority = 2 WHERE id = " + a);
                    st.execute("INSERT INTO scheduler_outbox (event_type) VALUES ('full_rebuild')");
                }
                c.rollback();
                try (Statement st = c.createStatement()) {
                    st.execute("UPDATE accounts SET priority = 3 WHERE id = " + a);
                    st.execute("UPDATE accounts SET priority = 4 WHERE id = " + a);
                    st.execute("INSERT INTO scheduler_outbox (event_type) VALUES ('full_rebuild')");
                }
                c.commit();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> wakes.get() >= 3);
            // A later, separate commit proves the earlier ones were all delivered before it.
            pg.sql("INSERT INTO scheduler_outbox (event_type) VALUES ('full_rebuild')");
            await().atMost(Duration.ofSeconds(10)).until(() -> wakes.get() >= 4);
            assertThat(wakes.get()).isEqualTo(4);
            assertThat(l.connections()).isEqualTo(1);
        }
    }
}
