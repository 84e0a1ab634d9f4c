package dev.roster.it.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.Roster;
import dev.roster.postgres.AccountRepository;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Late commits: three long transactions change accounts and stay open while the writer commits many
 * newer changes, then commit in reverse order. Their events carry older transaction ids than events
 * already applied; the horizon watermark must neither skip them nor hold back the newer ones meanwhile
 * (no head-of-line blocking).
 */
class LateCommitFaultTest extends FaultTestBase {

    @Test
    void longTransactionsCommitAfterManyNewerOnes() throws SQLException {
        Load load = startLoad(2, false);
        Roster roster = env.live.getFirst();
        List<Long> ids = load.accountIds();
        AccountRepository accounts = new AccountRepository(env.ds);
        // The long transactions lock rows of their own (a platform the writer never touches), so the
        // writer is not blocked behind them and keeps committing newer changes.
        List<Long> late = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            late.add(accounts.create(dev.roster.postgres.AccountSpec.of("late-" + i, "latecommit", "apikey")
                    .withCredentials(Load.credentials())));
        }
        List<Connection> open = new ArrayList<>();
        var rebuilds = env.rebuildMark();
        env.faultStarts();
        try {
            for (int i = 0; i < 3; i++) {
                Connection c = env.db.connect();
                c.setAutoCommit(false);
                try (Statement st = c.createStatement()) {
                    st.executeUpdate("UPDATE accounts SET priority = " + (100 + i) + " WHERE id = " + late.get(i));
                }
                open.add(c);
            }
            long probe = ids.get(5);
            long before = env.queryLong("SELECT count(*) FROM scheduler_outbox");
            // Newer commits while the three are open: they are served without waiting for them.
            accounts.setPriority(probe, 42);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> roster.getAccount(probe).orElseThrow().priority() == 42);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> roster.admin().outbox().horizonHolderPid() != null);
            Load.hold(hold());
            assertThat(env.queryLong("SELECT count(*) FROM scheduler_outbox")).isGreaterThan(before + 10);
            for (int i = 2; i >= 0; i--) {
                open.get(i).commit();
            }
        } finally {
            for (Connection c : open) {
                c.close();
            }
        }
        env.faultEnds();
        for (int i = 0; i < 3; i++) {
            long id = late.get(i);
            int want = 100 + i;
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> roster.getAccount(id).orElseThrow().priority() == want
                            || env.queryLong("SELECT priority FROM accounts WHERE id = " + id) != want);
        }
        env.converge("3 transactions open " + holdMs() + " ms under load, committed in reverse order", 0);
        // The late events were applied by replay itself: no full rebuild repaired a skip behind it.
        env.assertNoFullRebuildSince(rebuilds);
    }
}
