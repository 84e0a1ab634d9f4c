package dev.roster.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.selection.CooldownKind;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The cooldown sink on a real database: deadlines only rise, error status sticks. */
class PostgresCooldownSinkTest {
    static PgFixture pg;
    static AccountRepository accounts;
    static PostgresCooldownSink sink;

    @BeforeAll
    static void setUp() {
        pg = PgFixture.migrated("cooldowns");
        accounts = new AccountRepository(pg.ds);
        sink = new PostgresCooldownSink(pg.ds);
    }

    @AfterAll
    static void tearDown() {
        pg.close();
    }

    private long epochMs(String column, long id) {
        return pg.queryLong(
                "SELECT (extract(epoch FROM " + column + ") * 1000)::bigint FROM accounts WHERE id = " + id);
    }

    @Test
    void extend_onlyRaisesTheDeadline() {
        long id = accounts.create(AccountSpec.of("cool", "openai", "apikey"));
        Instant late = Instant.parse("2030-01-01T00:30:00Z");
        sink.extend(id, CooldownKind.RATE_LIMITED, late);
        // A later, shorter report (LiteLLM #40130) leaves the stored deadline.
        sink.extend(id, CooldownKind.RATE_LIMITED, Instant.parse("2030-01-01T00:01:00Z"));
        assertThat(epochMs("rate_limit_reset_at", id)).isEqualTo(late.toEpochMilli());
        sink.extend(id, CooldownKind.OVERLOADED, late);
        sink.extend(id, CooldownKind.TEMP_UNSCHEDULABLE, late.plusSeconds(1));
        assertThat(epochMs("overload_until", id)).isEqualTo(late.toEpochMilli());
        assertThat(epochMs("temp_unschedulable_until", id))
                .isEqualTo(late.plusSeconds(1).toEpochMilli());
        sink.extend(id, CooldownKind.RATE_LIMITED, late.plusSeconds(60));
        assertThat(epochMs("rate_limit_reset_at", id))
                .isEqualTo(late.plusSeconds(60).toEpochMilli());
        // Unknown accounts are ignored.
        sink.extend(987_654, CooldownKind.OVERLOADED, late);
    }

    @Test
    void markError_setsErrorStatusOnce() {
        long id = accounts.create(AccountSpec.of("err", "openai", "apikey"));
        sink.markError(id, "Access forbidden (403)");
        sink.markError(id, "again");
        assertThat(pg.queryLong("SELECT count(*) FROM accounts WHERE status = 'error' AND id = " + id))
                .isEqualTo(1);
    }
}
