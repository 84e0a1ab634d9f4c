package dev.roster.it.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.Roster;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.AccountSpec;
import dev.roster.postgres.DeadLetterRepository.DeadLetter;
import dev.roster.postgres.GroupRepository;
import dev.roster.redis.RedisKeys;
import dev.roster.testkit.RedisHarness;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Poison under load: malformed outbox rows (dead-lettered at once with the reason), rows of an event
 * type Roster does not know (skipped, counted), an event whose handling always fails (its bucket's
 * version counter in Redis holds a hash, so every rebuild of that bucket fails: the event is retried
 * {@code replay.max_attempts} times, then dead-lettered and replay goes on), and an account card in
 * Redis overwritten with garbage (read as a miss and answered from the database). Once the broken
 * counter is repaired, the projection converges with nothing else dead-lettered.
 */
class PoisonFaultTest extends FaultTestBase {

    @Test
    void malformedUnknownFailingHandlerAndGarbageCardUnderLoad() {
        // A group only this test's events touch, so exactly one event meets the broken bucket.
        long poisonGroup = new GroupRepository(env.ds).create("poison", "openai");
        AccountRepository accounts = new AccountRepository(env.ds);
        long victim = accounts.create(
                AccountSpec.of("victim", "openai", "apikey").withCredentials(Load.credentials()), List.of(poisonGroup));
        Load load = startLoad(1, false);
        Roster roster = env.live.getFirst();
        RedisKeys keys = new RedisKeys(env.prefix);
        Bucket broken = new Bucket(poisonGroup, "openai", Mode.SINGLE);

        env.faultStarts();
        RedisHarness.shared().command("DEL", keys.counter(broken));
        RedisHarness.shared().command("HSET", keys.counter(broken), "not", "a counter");
        accounts.setPriority(victim, 7);
        long failing = env.queryLong("SELECT max(id) FROM scheduler_outbox WHERE account_id = " + victim);
        env.sql(
                "INSERT INTO scheduler_outbox (event_type, payload) VALUES ('account_bulk_changed', '\"oops\"')",
                "INSERT INTO scheduler_outbox (event_type, account_id) VALUES ('group_changed', NULL)",
                "INSERT INTO scheduler_outbox (event_type, payload) VALUES ('account_teleported', '{}')",
                "INSERT INTO scheduler_outbox (event_type, payload) VALUES ('quota_changed', '{\"x\":1}')");
        long garbageCard = load.accountIds().getFirst();
        RedisHarness.shared().command("SET", keys.card(garbageCard), "\u0000garbage\u00ff not a card");
        await().atMost(env.size.converge())
                .until(() -> env.deadLetters.list(100).stream().anyMatch(d -> d.eventId() == failing));
        Load.hold(hold());
        // The operator repairs Redis; the dead letter stays (it explains the failure).
        RedisHarness.shared().command("DEL", keys.counter(broken));
        env.faultEnds();

        env.converge("2 malformed rows, 2 unknown types, 1 always-failing event, 1 garbage card", 3);
        List<DeadLetter> dead = env.deadLetters.list(100);
        assertThat(dead).filteredOn(d -> d.eventId() == failing).singleElement().satisfies(d -> {
            assertThat(d.attempts()).isEqualTo(FaultEnv.CONFIG.replay().maxAttempts());
            assertThat(d.error()).contains(broken.text());
        });
        assertThat(dead).filteredOn(d -> d.error().contains("malformed")).hasSize(2);
        // At least once each (a batch that is read again after a failure counts them again).
        assertThat(roster.service().replayer().unknown()).isGreaterThanOrEqualTo(2);
        assertThat(roster.getAccount(victim).orElseThrow().priority()).isEqualTo(7);
    }
}
