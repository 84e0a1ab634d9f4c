package dev.roster.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Group0Scope;
import dev.roster.core.GroupLink;
import dev.roster.core.Mode;
import dev.roster.core.RunMode;
import dev.roster.postgres.PgFixture.Row;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Repositories write through plain SQL; the triggers add the events. */
class RepositoryTest {
    static PgFixture pg;
    static AccountRepository accounts;
    static GroupRepository groups;
    static PostgresSchedulingSource source;

    @BeforeAll
    static void setUp() {
        pg = PgFixture.migrated("repositories");
        accounts = new AccountRepository(pg.ds);
        groups = new GroupRepository(pg.ds);
        source = new PostgresSchedulingSource(pg.ds);
    }

    @AfterAll
    static void tearDown() {
        pg.close();
    }

    @Test
    void createWithGroups_replaceGroups_givesPriorities1ToN_andOneLinkEventPerStatement() {
        long ga = groups.create("ga", "openai");
        long gb = groups.create("gb", "openai");
        long gc = groups.create("gc", "openai");
        long id = accounts.create(AccountSpec.of("acc", "openai", "apikey"), List.of(gb, ga));
        assertThat(accounts.groupsOf(id)).containsExactly(gb, ga);
        assertThat(source.loadCards(List.of(id)).get(id).groups())
                .containsExactly(new GroupLink(gb, 1), new GroupLink(ga, 2));

        long mark = pg.maxOutboxId();
        accounts.replaceGroups(id, List.of(gc, ga));
        assertThat(source.loadCards(List.of(id)).get(id).groups())
                .containsExactly(new GroupLink(gc, 1), new GroupLink(ga, 2));
        List<Row> rows = pg.outboxAfter(mark);
        assertThat(rows).extracting(Row::type).containsOnly("account_groups_changed");
        assertThat(rows.stream()
                        .flatMap(r -> r.ids("group_ids").stream())
                        .distinct()
                        .sorted()
                        .toList())
                .as("old ∪ new groups")
                .containsExactly(ga, gb, gc);

        mark = pg.maxOutboxId();
        accounts.replaceGroups(id, List.of(gc, ga));
        assertThat(pg.outboxAfter(mark))
                .as("replacing with the same list changes nothing")
                .isEmpty();
    }

    @Test
    void settersEmitOnChangeOnly_andShapeTheBucket() {
        long id = accounts.create(AccountSpec.of("setters", "zhipu", "oauth").withPriority(4));
        Bucket b = Bucket.of(0, "zhipu", Mode.SINGLE);
        Instant future = Instant.now().plus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.MICROS);

        long mark = pg.maxOutboxId();
        assertThat(accounts.setSchedulable(id, false)).isTrue();
        assertThat(accounts.setSchedulable(id, false)).isFalse();
        assertThat(source.loadBucket(b, RunMode.STANDARD, Group0Scope.ALL)).isEmpty();
        assertThat(accounts.setSchedulable(id, true)).isTrue();
        assertThat(accounts.setStatus(id, "error")).isTrue();
        assertThat(accounts.setStatus(id, "active")).isTrue();
        assertThat(accounts.setRateLimitResetAt(id, future)).isTrue();
        assertThat(accounts.setOverloadUntil(id, future)).isTrue();
        assertThat(accounts.setTempUnschedulableUntil(id, future)).isTrue();
        assertThat(accounts.setTempUnschedulableUntil(id, future)).isFalse();
        assertThat(pg.outboxAfter(mark)).hasSize(7).allSatisfy(r -> {
            assertThat(r.type()).isEqualTo("account_changed");
            assertThat(r.accountId()).isEqualTo(id);
        });

        AccountCard card =
                source.loadBucket(b, RunMode.STANDARD, Group0Scope.ALL).getFirst();
        assertThat(card.rateLimitResetAt()).isEqualTo(future);
        assertThat(card.overloadUntil()).isEqualTo(future);
        assertThat(card.tempUnschedulableUntil()).isEqualTo(future);
    }

    @Test
    void credentialsAndExtra_emitOnlyForModelMappingAndMixedScheduling() {
        long id = accounts.create(AccountSpec.of("creds", "antigravity", "oauth")
                .withCredentials(Map.of("access_token", "a", "model_mapping", Map.of("m1", "m1"))));
        long mark = pg.maxOutboxId();
        accounts.setCredentials(id, Map.of("access_token", "b", "model_mapping", Map.of("m1", "m1")));
        accounts.setExtra(id, Map.of("usage", 3));
        assertThat(pg.outboxAfter(mark)).isEmpty();

        accounts.setCredentials(id, Map.of("access_token", "b", "model_mapping", Map.of("m1", "m1", "m2", "m2")));
        accounts.setExtra(id, Map.of("usage", 3, "mixed_scheduling", true));
        assertThat(pg.outboxAfter(mark)).hasSize(2);
        AccountCard card = source.loadCards(List.of(id)).get(id);
        assertThat(card.supportedModels()).containsExactly("m1", "m2");
        assertThat(card.mixedScheduling()).isTrue();
    }

    @Test
    void batchLastUsed_isOneStatement_movesForwardOnly_andEmitsNothing() {
        long a = accounts.create(AccountSpec.of("lu-a", "openai", "apikey"));
        long b = accounts.create(AccountSpec.of("lu-b", "openai", "apikey"));
        Instant t1 = Instant.parse("2030-01-01T00:00:00Z");
        Instant t0 = Instant.parse("2029-01-01T00:00:00Z");
        long mark = pg.maxOutboxId();
        assertThat(accounts.batchUpdateLastUsed(Map.of(a, t1, b, t1, 999_999L, t1)))
                .isEqualTo(2);
        assertThat(accounts.batchUpdateLastUsed(Map.of(a, t0))).isZero();
        assertThat(pg.queryLong("SELECT extract(epoch FROM last_used_at)::bigint FROM accounts WHERE id = " + a))
                .isEqualTo(t1.getEpochSecond());
        assertThat(pg.outboxAfter(mark)).isEmpty();
    }

    @Test
    void softDeletes_andGroupLifecycle() {
        long g = groups.create("life", "anthropic");
        long id = accounts.create(AccountSpec.of("life-acc", "anthropic", "apikey"), List.of(g));
        Bucket b = Bucket.of(g, "anthropic", Mode.SINGLE);
        assertThat(source.loadBucket(b, RunMode.STANDARD, Group0Scope.ALL)).hasSize(1);

        long mark = pg.maxOutboxId();
        assertThat(groups.update(g, "renamed", "anthropic")).isTrue();
        assertThat(pg.outboxAfter(mark)).isEmpty();
        assertThat(groups.setStatus(g, "inactive")).isTrue();
        assertThat(source.loadBucket(b, RunMode.STANDARD, Group0Scope.ALL)).isEmpty();
        assertThat(groups.setStatus(g, "active")).isTrue();
        assertThat(groups.softDelete(g)).isTrue();
        assertThat(groups.softDelete(g)).isFalse();
        assertThat(source.loadBucket(b, RunMode.STANDARD, Group0Scope.ALL)).isEmpty();
        assertThat(pg.outboxAfter(mark))
                .extracting(Row::type)
                .containsExactly("group_changed", "group_changed", "group_changed");

        mark = pg.maxOutboxId();
        assertThat(accounts.softDelete(id)).isTrue();
        assertThat(accounts.softDelete(id)).isFalse();
        assertThat(source.loadCards(List.of(id))).isEmpty();
        assertThat(pg.outboxAfter(mark))
                .singleElement()
                .satisfies(r -> assertThat(r.ids("group_ids")).containsExactly(g));
    }

    @Test
    void stateAndDeadLetters() {
        StateRepository state = new StateRepository(pg.ds);
        assertThat(state.advanceWatermark(50)).isEqualTo(50);
        assertThat(state.advanceWatermark(40)).as("never lowered").isEqualTo(50);
        assertThat(state.get(StateRepository.OUTBOX_WATERMARK)).contains("50");

        DeadLetterRepository dead = new DeadLetterRepository(pg.ds);
        dead.record(new DeadLetterRepository.DeadLetter(
                7, "account_changed", 3L, null, "{\"group_ids\": \"x\"}", "malformed", 1, null, null, null));
        dead.record(new DeadLetterRepository.DeadLetter(
                7, "account_changed", 3L, null, "{\"group_ids\": \"x\"}", "still malformed", 2, null, null, null));
        assertThat(dead.list(10)).singleElement().satisfies(d -> {
            assertThat(d.error()).isEqualTo("still malformed");
            assertThat(d.attempts()).isEqualTo(2);
            assertThat(d.firstFailedAt()).isNotNull();
        });
        assertThat(dead.remove(7)).isTrue();
        assertThat(dead.list(10)).isEmpty();
    }
}
