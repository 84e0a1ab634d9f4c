package dev.roster.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.service.SnapshotService;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.AccountSpec;
import dev.roster.postgres.GroupRepository;
import dev.roster.redis.RedisProjection;
import dev.roster.testkit.RedisHarness;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A full rebuild is what repairs the projection after events were lost or skipped (a fast-forward past
 * them, dead letters, rows removed from the outbox). Accounts that left every bucket have no bucket to
 * be rebuilt through, so the rebuild must rewrite the card of every live account and delete the cards
 * of accounts that no longer exist; otherwise {@code GET /v1/accounts/{id}} and sticky sessions keep
 * answering with the card of an account that is disabled, in error, unschedulable or gone.
 */
class FullRebuildCardsTest {
    private static final String SECRET = "sk-live-do-not-leak-7f3a";

    static ItEnv env;
    AccountRepository accounts;
    GroupRepository groups;

    @BeforeAll
    static void setUp() {
        env = new ItEnv("rebuildcards");
    }

    @AfterAll
    static void tearDown() {
        env.close();
    }

    @BeforeEach
    void clean() {
        env.truncatePool();
        accounts = new AccountRepository(env.ds);
        groups = new GroupRepository(env.ds);
    }

    @Test
    void cardsOfAccountsThatLeftEveryBucketWhileTheirEventsWereLostFollowTheDatabase() {
        long g = groups.create("team", "openai");
        long keep = accounts.create(AccountSpec.of("keep", "openai", "apikey"), List.of(g));
        long disabled = accounts.create(AccountSpec.of("disabled", "openai", "apikey"), List.of(g));
        long error = accounts.create(AccountSpec.of("error", "openai", "apikey"), List.of(g));
        long unschedulable = accounts.create(AccountSpec.of("unsched", "openai", "apikey"), List.of(g));
        long softDeleted = accounts.create(AccountSpec.of("softdel", "openai", "apikey"), List.of());
        long hardDeleted = accounts.create(AccountSpec.of("harddel", "openai", "apikey"), List.of());
        long secret = accounts.create(
                AccountSpec.of("secret", "openai", "apikey")
                        .withCredentials(Map.of("api_key", SECRET, "model_mapping", Map.of("gpt-x", "gpt-y"))),
                List.of(g));
        String prefix = RedisHarness.shared().keyPrefix(FullRebuildCardsTest.class);
        try (RedisProjection p = env.projection(prefix);
                SnapshotService s = env.service(p).inlineRebuilds(true).build()) {
            s.requestFullRebuild("start").join();
            s.replayer().drain();
            for (long id : List.of(keep, disabled, error, unschedulable, softDeleted, hardDeleted)) {
                assertThat(p.card(id).value().map(AccountCard::status))
                        .as("card of %s at start", id)
                        .contains("active");
            }

            // Every change leaves the accounts out of every bucket, and its outbox rows are lost, so
            // the replayer never hears of it: only the full rebuild can bring the cards back in line.
            env.sql(
                    "UPDATE accounts SET status = 'disabled' WHERE id = " + disabled,
                    "UPDATE accounts SET status = 'error' WHERE id = " + error,
                    "UPDATE accounts SET schedulable = false WHERE id = " + unschedulable,
                    "UPDATE accounts SET deleted_at = now() WHERE id = " + softDeleted,
                    "DELETE FROM account_groups WHERE account_id = " + hardDeleted,
                    "DELETE FROM accounts WHERE id = " + hardDeleted,
                    "DELETE FROM scheduler_outbox");
            s.requestFullRebuild("test").join();
            s.replayer().drain();

            Map<Long, AccountCard> truth = env.source.loadCards(
                    List.of(keep, disabled, error, unschedulable, softDeleted, hardDeleted, secret));
            assertThat(truth)
                    .as("the database's live accounts")
                    .containsOnlyKeys(keep, disabled, error, unschedulable, secret);
            for (long id : List.of(keep, disabled, error, unschedulable, secret)) {
                assertThat(p.card(id).value())
                        .as("card of account %s after the full rebuild", id)
                        .get()
                        .usingRecursiveComparison()
                        .isEqualTo(truth.get(id));
            }
            assertThat(p.card(disabled).value().map(AccountCard::status)).contains("disabled");
            assertThat(p.card(error).value().map(AccountCard::status)).contains("error");
            assertThat(p.card(unschedulable).value().map(AccountCard::schedulable))
                    .contains(false);
            assertThat(p.card(softDeleted).value())
                    .as("card of the soft-deleted account")
                    .isEmpty();
            assertThat(p.card(hardDeleted).value())
                    .as("card of the deleted account")
                    .isEmpty();
            assertThat(s.getAccount(softDeleted))
                    .as("GET of the soft-deleted account")
                    .isEqualTo(Optional.empty());
            assertThat(s.getAccount(hardDeleted))
                    .as("GET of the deleted account")
                    .isEqualTo(Optional.empty());
            assertThat(p.cardIds())
                    .as("ids of the stored cards")
                    .containsExactlyInAnyOrder(keep, disabled, error, unschedulable, secret);

            // Cards written by the rebuild carry no secrets: read the stored bytes, not the decoded card.
            Object raw = RedisHarness.shared().command("GET", p.keys().card(secret));
            assertThat(raw).as("stored card of the account with credentials").isInstanceOf(String.class);
            assertThat((String) raw).contains("gpt-x").doesNotContain(SECRET).doesNotContain("gpt-y");
        }
    }
}
