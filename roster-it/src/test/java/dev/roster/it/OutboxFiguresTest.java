package dev.roster.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.config.ReplayConfig;
import dev.roster.core.outbox.OutboxStats;
import dev.roster.core.replay.ReplayStep;
import dev.roster.core.service.SnapshotService;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.AccountSpec;
import dev.roster.redis.RedisProjection;
import dev.roster.testkit.RedisHarness;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Backlog and lag are what alerts are built on, so they must count only events the replayer has not
 * applied. An idle open transaction pins the horizon (and so the watermark) while the replayer goes
 * on applying later events from its applied set; figures taken from the watermark alone count those
 * applied events as pending and their age as lag, which climbs while every snapshot is current.
 * Checked on the lease holder and on an instance that does not hold the lease (it reads the
 * holder's published cursor).
 */
class OutboxFiguresTest {
    static ItEnv env;
    AccountRepository accounts;

    @BeforeAll
    static void setUp() {
        env = new ItEnv("outboxfigures");
    }

    @AfterAll
    static void tearDown() {
        env.close();
    }

    @BeforeEach
    void clean() {
        env.truncatePool();
        accounts = new AccountRepository(env.ds);
    }

    @Test
    void anIdleTransactionDoesNotMakeAppliedEventsCountAsBacklogOrLag() throws Exception {
        long held = accounts.create(AccountSpec.of("held", "openai", "apikey"), List.of());
        long a = accounts.create(AccountSpec.of("a", "openai", "apikey"), List.of());
        long b = accounts.create(AccountSpec.of("b", "openai", "apikey"), List.of());
        long c = accounts.create(AccountSpec.of("c", "openai", "apikey"), List.of());
        String prefix = RedisHarness.shared().keyPrefix(OutboxFiguresTest.class);
        try (RedisProjection p1 = env.projection(prefix);
                RedisProjection p2 = env.projection(prefix);
                SnapshotService holder = env.service(p1).inlineRebuilds(true).build();
                SnapshotService other = env.service(p2).inlineRebuilds(true).build();
                Connection idle = env.db.connect()) {
            holder.requestFullRebuild("start").join();
            holder.replayer().drain();
            assertThat(holder.isReplayer()).isTrue();
            assertThat(other.replayer().pollOnce()).isEqualTo(ReplayStep.NOT_HOLDER);

            long base = env.queryLong("SELECT max(id) FROM scheduler_outbox");
            // An idle transaction with an outbox row of its own holds the horizon back.
            idle.setAutoCommit(false);
            try (Statement st = idle.createStatement()) {
                st.execute("UPDATE accounts SET priority = 9 WHERE id = " + held);
            }
            accounts.setPriority(a, 3);
            accounts.setPriority(b, 4);
            holder.replayer().drain();
            // The applied events look an hour old: counted as pending, they would show an hour of lag.
            env.sql("UPDATE scheduler_outbox SET created_at = created_at - interval '1 hour'");
            assertThat(env.queryLong("SELECT count(*) FROM scheduler_outbox WHERE id > " + base))
                    .as("applied events visible above the pinned watermark")
                    .isPositive();

            for (SnapshotService s : List.of(holder, other)) {
                OutboxStats st = s.outboxStats();
                String who = s == holder ? "holder" : "non-holder";
                assertThat(st.horizonHolderPid())
                        .as("%s: the idle transaction is named", who)
                        .isNotNull();
                assertThat(st.pending())
                        .as("%s: backlog with every visible event applied", who)
                        .isZero();
                assertThat(st.lag())
                        .as("%s: lag with every visible event applied", who)
                        .isEqualTo(Duration.ZERO);
            }

            // One more change, not yet replayed: only it is pending, and the lag is its age.
            long before = env.queryLong("SELECT max(id) FROM scheduler_outbox");
            accounts.setPriority(c, 5);
            env.sql("UPDATE scheduler_outbox SET created_at = clock_timestamp() - interval '10 minutes'"
                    + " WHERE id > " + before);
            long unapplied = env.queryLong("SELECT count(*) FROM scheduler_outbox WHERE id > " + before);
            assertThat(unapplied).isPositive();
            for (SnapshotService s : List.of(holder, other)) {
                OutboxStats st = s.outboxStats();
                String who = s == holder ? "holder" : "non-holder";
                assertThat(st.pending()).as("%s: backlog", who).isEqualTo(unapplied);
                assertThat(st.lag())
                        .as("%s: lag is the age of the unapplied event only", who)
                        .isBetween(Duration.ofMinutes(10), Duration.ofMinutes(30));
            }

            holder.replayer().drain();
            for (SnapshotService s : List.of(holder, other)) {
                OutboxStats st = s.outboxStats();
                String who = s == holder ? "holder" : "non-holder";
                assertThat(st.pending()).as("%s: backlog after replay", who).isZero();
                assertThat(st.lag()).as("%s: lag after replay", who).isEqualTo(Duration.ZERO);
                assertThat(st.horizonAge())
                        .as("%s: the idle transaction is still open", who)
                        .isPositive();
            }
            idle.rollback();
        }
    }

    @Test
    void pastTheAppliedSetsBoundTheEventsTheSweepsAppliedAreNotPending() throws Exception {
        // An applied set of two: the third event applied above the pinned watermark is no longer
        // remembered, and the cursor sweeps instead; the sweeps' events were applied all the same.
        ReplayConfig r = ItEnv.CONFIG.replay();
        ReplayConfig tiny = r.toBuilder().batchSize(2).maxApplied(2).build();
        List<Long> ids = new java.util.ArrayList<>();
        long held = accounts.create(AccountSpec.of("held", "openai", "apikey"), List.of());
        for (int i = 0; i < 7; i++) {
            ids.add(accounts.create(AccountSpec.of("a" + i, "openai", "apikey"), List.of()));
        }
        String prefix = RedisHarness.shared().keyPrefix(OutboxFiguresTest.class);
        try (RedisProjection p1 = env.projection(prefix);
                RedisProjection p2 = env.projection(prefix);
                SnapshotService holder = env.service(p1)
                        .config(ItEnv.CONFIG.withReplay(tiny))
                        .inlineRebuilds(true)
                        .build();
                SnapshotService other = env.service(p2)
                        .config(ItEnv.CONFIG.withReplay(tiny))
                        .inlineRebuilds(true)
                        .build();
                Connection idle = env.db.connect()) {
            holder.requestFullRebuild("start").join();
            holder.replayer().drain();
            assertThat(other.replayer().pollOnce()).isEqualTo(ReplayStep.NOT_HOLDER);
            long base = env.queryLong("SELECT max(id) FROM scheduler_outbox");
            idle.setAutoCommit(false);
            try (Statement st = idle.createStatement()) {
                st.execute("UPDATE accounts SET priority = 9 WHERE id = " + held);
            }
            for (long id : ids) {
                accounts.setPriority(id, 3);
            }
            // Until a sweep has gone over every visible event, and once more for good measure.
            holder.replayer().drain();
            holder.replayer().drain();
            long visible = env.queryLong("SELECT count(*) FROM scheduler_outbox WHERE id > " + base);
            assertThat(visible).as("applied events above the pinned watermark").isGreaterThan(2);
            for (SnapshotService s : List.of(holder, other)) {
                OutboxStats st = s.outboxStats();
                String who = s == holder ? "holder" : "non-holder";
                assertThat(st.pending())
                        .as("%s: backlog with every visible event applied", who)
                        .isZero();
                assertThat(st.lag()).as("%s: lag", who).isEqualTo(Duration.ZERO);
            }
            idle.rollback();
        }
    }
}
