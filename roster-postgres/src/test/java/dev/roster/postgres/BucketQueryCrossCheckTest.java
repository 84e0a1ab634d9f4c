package dev.roster.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Group0Scope;
import dev.roster.core.Mode;
import dev.roster.core.RunMode;
import dev.roster.core.TimeFilter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * For random pools (fixed seeds), the full Q run in SQL at an instant equals the durable SQL query
 * with {@link TimeFilter#apply} at that instant, for every bucket shape. Instants include the exact
 * end of blocks, where "ends at its instant" matters.
 */
class BucketQueryCrossCheckTest {
    static PgFixture pg;
    static PostgresSchedulingSource source;
    static final Instant T0 = Instant.parse("2031-05-01T12:00:00Z");
    static final List<String> PLATFORMS = List.of("anthropic", "antigravity", "openai");

    @BeforeAll
    static void setUp() {
        pg = PgFixture.migrated("bucket_cross_check");
        source = new PostgresSchedulingSource(pg.ds);
    }

    @AfterAll
    static void tearDown() {
        pg.close();
    }

    @Test
    void fullQueryInSql_equalsDurableQueryPlusTimeFilter() throws Exception {
        int compared = 0;
        for (long seed = 1; seed <= 10; seed++) {
            Random rnd = new Random(seed);
            List<Long> groups = randomPool(rnd);
            List<Long> bucketGroups = new ArrayList<>(groups);
            bucketGroups.add(0L);
            bucketGroups.add(987_654L);
            List<Instant> instants = List.of(T0, T0.plus(rnd.nextInt(5) - 2, ChronoUnit.MINUTES));
            for (Instant now : instants) {
                for (long g : bucketGroups) {
                    for (String p : PLATFORMS) {
                        for (Mode m : Mode.values()) {
                            for (RunMode run : RunMode.values()) {
                                for (Group0Scope scope : Group0Scope.values()) {
                                    if (run == RunMode.SIMPLE && scope == Group0Scope.UNGROUPED) {
                                        continue;
                                    }
                                    Bucket b = Bucket.of(g, p, m);
                                    List<AccountCard> durable = source.loadBucket(b, run, scope);
                                    List<AccountCard> full = source.loadBucketAt(b, run, scope, now);
                                    assertThat(full)
                                            .as("seed %d bucket %s %s %s at %s", seed, b, run, scope, now)
                                            .isEqualTo(TimeFilter.apply(durable, now));
                                    compared++;
                                }
                            }
                        }
                    }
                }
            }
        }
        assertThat(compared).isGreaterThan(1000);
    }

    /** Replaces the pool with a random one; returns the group ids. */
    private static List<Long> randomPool(Random rnd) throws Exception {
        pg.sql("TRUNCATE account_groups, accounts, groups, scheduler_outbox");
        List<Long> groups = new ArrayList<>();
        String[] statuses = {"active", "active", "active", "inactive"};
        for (int i = 0; i < 4; i++) {
            long g = pg.group("g" + i, PLATFORMS.get(rnd.nextInt(PLATFORMS.size())));
            pg.sql("UPDATE groups SET status = '" + statuses[rnd.nextInt(statuses.length)] + "'"
                    + (rnd.nextInt(6) == 0 ? ", deleted_at = now()" : "") + " WHERE id = " + g);
            groups.add(g);
        }
        String[] mixed = {
            "{}",
            "{\"mixed_scheduling\": true}",
            "{\"mixed_scheduling\": false}",
            "{\"mixed_scheduling\": \"true\"}",
            "{\"mixed_scheduling\": 1}"
        };
        String[] accountStatuses = {"active", "active", "active", "active", "error", "disabled"};
        String sql = "INSERT INTO accounts (name, platform, type, status, schedulable, priority, extra,"
                + " rate_limit_reset_at, overload_until, temp_unschedulable_until, expires_at, auto_pause_on_expired,"
                + " deleted_at) VALUES (?, ?, 'apikey', ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?) RETURNING id";
        List<Long> accounts = new ArrayList<>();
        try (Connection c = pg.bare();
                PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < 40; i++) {
                ps.setString(1, "acc" + i);
                ps.setString(2, PLATFORMS.get(rnd.nextInt(PLATFORMS.size())));
                ps.setString(3, accountStatuses[rnd.nextInt(accountStatuses.length)]);
                ps.setBoolean(4, rnd.nextInt(8) != 0);
                ps.setInt(5, rnd.nextInt(3));
                ps.setString(6, mixed[rnd.nextInt(mixed.length)]);
                ps.setTimestamp(7, maybeTime(rnd));
                ps.setTimestamp(8, maybeTime(rnd));
                ps.setTimestamp(9, maybeTime(rnd));
                ps.setTimestamp(10, maybeTime(rnd));
                ps.setBoolean(11, rnd.nextBoolean());
                ps.setTimestamp(12, rnd.nextInt(10) == 0 ? Timestamp.from(T0) : null);
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    accounts.add(rs.getLong(1));
                }
            }
        }
        for (long a : accounts) {
            for (long g : groups) {
                if (rnd.nextInt(4) == 0) {
                    pg.sql("INSERT INTO account_groups (account_id, group_id, priority) VALUES (" + a + ", " + g + ", "
                            + rnd.nextInt(3) + ")");
                }
            }
        }
        return groups;
    }

    /** Null half the time, else an instant within two minutes of T0, often exactly on a minute. */
    private static Timestamp maybeTime(Random rnd) {
        if (rnd.nextBoolean()) {
            return null;
        }
        Instant t = T0.plus(rnd.nextInt(5) - 2, ChronoUnit.MINUTES);
        if (rnd.nextInt(3) == 0) {
            t = t.plus(rnd.nextInt(1_000_000), ChronoUnit.MICROS);
        }
        return Timestamp.from(t);
    }
}
