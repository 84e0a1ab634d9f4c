package dev.roster.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.AccountLimits;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.service.SnapshotService;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.AccountSpec;
import dev.roster.postgres.GroupRepository;
import dev.roster.redis.RedisProjection;
import dev.roster.testkit.RedisHarness;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The selection limits (decision S1 under "One-round-trip selection and new card fields") travel the
 * whole change path: an SQL edit of each column is captured as an event, replayed, and reaches both
 * the stored card and the bucket snapshot's card through the Redis codec, with the value the database
 * holds; an edit back to the defaults converges too.
 */
class SelectionLimitsRoundTripTest {
    static ItEnv env;
    AccountRepository accounts;
    GroupRepository groups;

    @BeforeAll
    static void setUp() {
        env = new ItEnv("selectionlimits");
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
    void anSqlEditOfEachLimitReachesTheCardAndTheSnapshot() {
        long g = groups.create("team", "anthropic");
        long id = accounts.create(AccountSpec.of("limited", "anthropic", "oauth"), List.of(g));
        Bucket bucket = Bucket.of(g, "anthropic", Mode.SINGLE);
        String prefix = RedisHarness.shared().keyPrefix(SelectionLimitsRoundTripTest.class);
        try (RedisProjection p = env.projection(prefix);
                SnapshotService s = env.service(p).inlineRebuilds(true).build()) {
            s.requestFullRebuild("start").join();
            s.replayer().drain();
            assertThat(card(p, id).limits()).as("a new account's limits").isEqualTo(AccountLimits.DEFAULTS);

            step(p, s, bucket, id, "rpm_limit = 120", c -> c.rpmLimit(), 120);
            step(p, s, bucket, id, "weight = 4", c -> c.weight(), 4);
            step(p, s, bucket, id, "quota_threshold_5h = 80", c -> c.quotaThreshold5h(), 80);
            step(p, s, bucket, id, "quota_threshold_7d = 95", c -> c.quotaThreshold7d(), 95);
            assertThat(card(p, id).limits()).isEqualTo(new AccountLimits(120, 4, 80, 95));

            // Back to the defaults: a 0 and a NULL limit both read as unlimited.
            step(p, s, bucket, id, "rpm_limit = 0", c -> c.rpmLimit(), 0);
            step(p, s, bucket, id, "rpm_limit = 7", c -> c.rpmLimit(), 7);
            step(p, s, bucket, id, "rpm_limit = NULL", c -> c.rpmLimit(), 0);
            step(
                    p,
                    s,
                    bucket,
                    id,
                    "quota_threshold_5h = NULL, quota_threshold_7d = NULL, weight = 1",
                    c -> c.limits(),
                    AccountLimits.DEFAULTS);

            assertThat(card(p, id))
                    .as("the stored card equals the database's")
                    .isEqualTo(env.source.loadCards(List.of(id)).get(id));
        }
    }

    /** Applies {@code set}, checks the capture queued an event, replays it, and reads both cards. */
    private void step(
            RedisProjection p,
            SnapshotService s,
            Bucket bucket,
            long id,
            String set,
            Function<AccountCard, Object> field,
            Object expected) {
        long before = env.queryLong("SELECT count(*) FROM scheduler_outbox");
        env.sql("UPDATE accounts SET " + set + " WHERE id = " + id);
        assertThat(env.queryLong("SELECT count(*) FROM scheduler_outbox"))
                .as("events queued by SET %s", set)
                .isGreaterThan(before);
        s.replayer().drain();
        assertThat(field.apply(card(p, id))).as("stored card after SET %s", set).isEqualTo(expected);
        Snapshot snap = p.readSnapshot(bucket).value().orElseThrow();
        AccountCard listed =
                snap.cards().stream().filter(c -> c.id() == id).findFirst().orElseThrow();
        assertThat(field.apply(listed)).as("snapshot card after SET %s", set).isEqualTo(expected);
    }

    private static AccountCard card(RedisProjection p, long id) {
        return p.card(id).value().orElseThrow();
    }
}
