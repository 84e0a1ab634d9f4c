package dev.roster.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.replay.ReplayStep;
import dev.roster.core.service.SnapshotService;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.AccountSpec;
import dev.roster.postgres.DeadLetterRepository.DeadLetter;
import dev.roster.redis.RedisProjection;
import dev.roster.testkit.RedisHarness;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A malformed outbox row inserted by hand ends in the dead-letter table and replay goes on. */
class PoisonRowTest {
    static ItEnv env;

    @BeforeAll
    static void setUp() {
        env = new ItEnv("poison");
    }

    @AfterAll
    static void tearDown() {
        env.close();
    }

    @Test
    void malformedRowIsDeadLetteredAndEveryLaterEventIsApplied() {
        AccountRepository accounts = new AccountRepository(env.ds);
        try (RedisProjection projection = env.projection(RedisHarness.shared().keyPrefix(PoisonRowTest.class));
                SnapshotService s = env.service(projection).inlineRebuilds(true).build()) {
            s.replayer().drain();
            long before = accounts.create(AccountSpec.of("before", "openai", "apikey"));
            env.sql(
                    "INSERT INTO scheduler_outbox (event_type, payload) VALUES ('account_bulk_changed', '\"oops\"')",
                    "INSERT INTO scheduler_outbox (event_type, account_id) VALUES ('group_changed', NULL)");
            long poisonId = env.queryLong("SELECT min(id) FROM scheduler_outbox WHERE payload = '\"oops\"'::jsonb");
            long after =
                    accounts.create(AccountSpec.of("after", "openai", "apikey").withPriority(1));
            assertThat(s.replayer().drain()).isIn(ReplayStep.CAUGHT_UP, ReplayStep.IDLE);
            assertThat(s.replayer().drain()).isEqualTo(ReplayStep.IDLE);

            List<DeadLetter> dead = env.deadLetters.list(10);
            assertThat(dead).hasSize(2);
            assertThat(dead.getFirst().eventId()).isEqualTo(poisonId);
            assertThat(dead.getFirst().eventType()).isEqualTo("account_bulk_changed");
            assertThat(dead.getFirst().error()).contains("malformed");
            assertThat(dead).allSatisfy(d -> assertThat(d.attempts()).isEqualTo(1));
            assertThat(s.list(null, "openai", false).accounts())
                    .extracting(AccountCard::id)
                    .containsExactly(after, before);
            // Later events still flow.
            accounts.setStatus(before, "disabled");
            s.replayer().drain();
            assertThat(s.list(null, "openai", false).accounts())
                    .extracting(AccountCard::id)
                    .containsExactly(after);
            assertThat(s.audit().drifts()).isEmpty();
        }
    }
}
