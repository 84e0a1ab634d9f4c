package dev.roster.it.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.Roster;
import dev.roster.testkit.PostgresHarness;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL goes away under load: stopped (fast shutdown) or killed (SIGKILL, crash recovery on
 * start), then started on the same port and data; and the LISTEN session alone is terminated by the
 * server. Writes fail while it is down (and therefore emit no event); reads keep being answered from
 * the projection; every committed event is applied once it is back.
 */
class PostgresFaultTest extends FaultTestBase {
    private final PostgresHarness pg = PostgresHarness.shared();

    @Test
    void postgresStoppedAndRestartedUnderLoad() {
        Load load = startLoad(2, false);
        load.expectDatabaseOutage();
        env.faultStarts();
        pg.stop();
        Load.hold(hold());
        pg.start();
        env.faultEnds();
        env.converge("PostgreSQL stopped " + holdMs() + " ms (fast shutdown), restarted", 0);
        assertThat(load.writeFailures.get()).as("writes refused while down").isPositive();
    }

    @Test
    void postgresKilledAndRestartedUnderLoad() {
        Load load = startLoad(2, false);
        load.expectDatabaseOutage();
        env.faultStarts();
        pg.kill();
        Load.hold(hold());
        pg.start();
        env.faultEnds();
        env.converge("PostgreSQL SIGKILLed, down " + holdMs() + " ms, crash recovery", 0);
        assertThat(load.writeFailures.get()).as("writes refused while down").isPositive();
    }

    @Test
    void listenConnectionLostAndReestablished() {
        startLoad(2, false);
        await().atMost(Duration.ofSeconds(30)).until(() -> env.live.stream().allMatch(Roster::listening));
        var rebuilds = env.rebuildMark();
        env.faultStarts();
        // The listeners are the only sessions of this database with the driver's default application
        // name (Roster's pools say "roster", the test's writer "fault-writer").
        long terminated = env.queryLong("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                + " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                + " AND application_name = 'PostgreSQL JDBC Driver'");
        assertThat(terminated).as("LISTEN sessions terminated").isEqualTo(2);
        Load.hold(hold());
        await().atMost(Duration.ofSeconds(30)).until(() -> env.live.stream().allMatch(Roster::listening));
        env.faultEnds();
        env.converge("both LISTEN sessions terminated by the server, load held " + holdMs() + " ms", 0);
        // Notifications lost with the sessions are made up by polling, not by a full rebuild.
        env.assertNoFullRebuildSince(rebuilds);
    }
}
