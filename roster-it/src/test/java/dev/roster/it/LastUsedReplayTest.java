package dev.roster.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.core.config.NearCacheConfig;
import dev.roster.core.config.ServiceConfig;
import dev.roster.core.service.SnapshotService;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.AccountSpec;
import dev.roster.redis.RedisProjection;
import dev.roster.testkit.RedisHarness;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Last-used end to end on real PostgreSQL and Redis, through a started service: {@code markUsed}
 * reaches Redis at once and {@code accounts.last_used_at} through the write-behind timer; an {@code
 * account_last_used} outbox event of another writer (which updates the column and emits the event in
 * one transaction) reaches Redis through replay. Neither path ever moves a value backwards, in Redis
 * or in PostgreSQL, whatever the order in which older and newer values arrive.
 *
 * <p>The oracles read the raw stores: the Redis key with a plain {@code GET} on the server, the column
 * with plain SQL; nothing of the projection's or the repository's reading code is used.
 */
class LastUsedReplayTest {
    static ItEnv env;

    @BeforeAll
    static void setUp() {
        env = new ItEnv("lastused");
    }

    @AfterAll
    static void tearDown() {
        env.close();
    }

    @Test
    void markUsedAndTheOutboxEventReachRedisAndPostgresAndNeverMoveBack() {
        AccountRepository accounts = new AccountRepository(env.ds);
        long a = accounts.create(AccountSpec.of("a", "openai", "apikey"));
        long b = accounts.create(AccountSpec.of("b", "openai", "apikey"));
        String prefix = RedisHarness.shared().keyPrefix(LastUsedReplayTest.class);
        ServiceConfig config =
                ItEnv.CONFIG.withNearCache(NearCacheConfig.DEFAULTS.withLastUsedFlushInterval(Duration.ofMillis(100)));
        // Whole seconds: the outbox payload carries unix seconds. In the future, so nothing else of the
        // run (no select runs here) can have written a later value.
        Instant t = Instant.now().truncatedTo(ChronoUnit.SECONDS).plus(Duration.ofHours(1));
        try (RedisProjection p = env.projection(prefix);
                SnapshotService s = env.service(p)
                        .config(config)
                        .lastUsedWriter(accounts::batchUpdateLastUsed)
                        .build()
                        .start()) {
            // The start's full rebuild writes the cards; Redis keeps last-used only beside a card.
            await().atMost(Duration.ofSeconds(30)).until(s::ready);
            assertThat(redisLastUsed(prefix, a))
                    .as("no last-used before any use")
                    .isNull();

            // markUsed: Redis at once, PostgreSQL by the write-behind timer (not by an explicit flush).
            s.markUsed(a, t.plusSeconds(20));
            assertThat(redisLastUsed(prefix, a))
                    .as("Redis right after markUsed")
                    .isEqualTo(t.plusSeconds(20));
            await().untilAsserted(() -> assertThat(pgLastUsed(a)).isEqualTo(t.plusSeconds(20)));

            // An older use arriving late moves neither store back. flushLastUsed returns only once
            // whatever was queued (the older value) has been written, by this call or by the timer.
            s.markUsed(a, t.plusSeconds(10));
            assertThat(redisLastUsed(prefix, a))
                    .as("Redis after an older markUsed")
                    .isEqualTo(t.plusSeconds(20));
            s.flushLastUsed();
            assertThat(pgLastUsed(a)).as("PostgreSQL after an older markUsed").isEqualTo(t.plusSeconds(20));

            // Another writer's batch: its own UPDATE of the column and the event, in one transaction.
            otherWriter(Map.of(a, t.plusSeconds(30), b, t.plusSeconds(5)), true);
            s.wake();
            await().untilAsserted(() -> {
                assertThat(redisLastUsed(prefix, a)).isEqualTo(t.plusSeconds(30));
                assertThat(redisLastUsed(prefix, b)).isEqualTo(t.plusSeconds(5));
            });
            assertThat(pgLastUsed(a)).isEqualTo(t.plusSeconds(30));
            assertThat(pgLastUsed(b)).isEqualTo(t.plusSeconds(5));
            assertThat(s.lastUsed(List.of(a, b))).isEqualTo(Map.of(a, t.plusSeconds(30), b, t.plusSeconds(5)));

            // An event older than what Redis holds for a, newer for b: b shows that it was applied, a
            // must not move back.
            otherWriter(Map.of(a, t.plusSeconds(15), b, t.plusSeconds(40)), false);
            s.wake();
            await().untilAsserted(() -> assertThat(redisLastUsed(prefix, b)).isEqualTo(t.plusSeconds(40)));
            assertThat(redisLastUsed(prefix, a))
                    .as("Redis after an older event")
                    .isEqualTo(t.plusSeconds(30));

            // A use older than the other writer's value but newer than this instance's own: Redis keeps
            // the event's value, and the write-behind does not undo the other writer's column.
            s.markUsed(a, t.plusSeconds(25));
            assertThat(redisLastUsed(prefix, a)).isEqualTo(t.plusSeconds(30));
            s.flushLastUsed();
            assertThat(pgLastUsed(a))
                    .as("PostgreSQL after a use older than the other writer's")
                    .isEqualTo(t.plusSeconds(30));
            assertThat(s.lastUsed(List.of(a))).isEqualTo(Map.of(a, t.plusSeconds(30)));

            // And a newer use still moves both forward.
            s.markUsed(a, t.plusSeconds(50));
            assertThat(redisLastUsed(prefix, a)).isEqualTo(t.plusSeconds(50));
            await().untilAsserted(() -> assertThat(pgLastUsed(a)).isEqualTo(t.plusSeconds(50)));

            // Roster's own writes emitted no outbox rows: only the other writer's two events exist.
            assertThat(env.queryLong("SELECT count(*) FROM scheduler_outbox WHERE event_type = 'account_last_used'"))
                    .isEqualTo(2);
        }
    }

    /**
     * Writes like a writer that is not Roster: optionally its own forward-only UPDATE of the column,
     * and the event, in one transaction.
     */
    private static void otherWriter(Map<Long, Instant> values, boolean updateColumn) {
        String json = values.entrySet().stream()
                .map(e -> "\"" + e.getKey() + "\": " + e.getValue().getEpochSecond())
                .collect(Collectors.joining(", ", "{\"last_used\": {", "}}"));
        try (Connection c = env.db.connect();
                Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            if (updateColumn) {
                for (Map.Entry<Long, Instant> e : values.entrySet()) {
                    st.executeUpdate("UPDATE accounts SET last_used_at = to_timestamp("
                            + e.getValue().getEpochSecond()
                            + ") WHERE id = " + e.getKey()
                            + " AND (last_used_at IS NULL OR last_used_at < to_timestamp("
                            + e.getValue().getEpochSecond() + "))");
                }
            }
            st.executeUpdate(
                    "INSERT INTO scheduler_outbox (event_type, payload) VALUES ('account_last_used', '" + json + "')");
            c.commit();
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** The raw Redis value (epoch milliseconds) of the account's last-used key, or null. */
    private static Instant redisLastUsed(String prefix, long id) {
        Object v = RedisHarness.shared().command("GET", prefix + "{" + id + "}:lu");
        return v == null ? null : Instant.ofEpochMilli(Long.parseLong(v.toString()));
    }

    /** The raw column, or null. */
    private static Instant pgLastUsed(long id) {
        try (Connection c = env.db.connect();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT (extract(epoch FROM last_used_at) * 1000)::bigint FROM accounts"
                        + " WHERE id = " + id)) {
            assertThat(rs.next()).as("account %s exists", id).isTrue();
            long ms = rs.getLong(1);
            return rs.wasNull() ? null : Instant.ofEpochMilli(ms);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }
}
