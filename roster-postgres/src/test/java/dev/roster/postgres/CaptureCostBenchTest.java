package dev.roster.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The cost of capture: single-row UPDATE throughput on {@code accounts} with and without the
 * capture triggers, in one run on one server. Not part of the normal suite (tag {@code bench}); run
 * with {@code -Pbench} (see docs/performance.md). Arms are interleaved in rounds so drift in the
 * machine's state affects each alike.
 */
@Tag("bench")
class CaptureCostBenchTest {
    static final int ACCOUNTS = 1_000;
    static final int PER_ARM = Integer.getInteger("roster.bench.updates", 20_000);
    static final int ROUNDS = 4;

    @Test
    void singleRowUpdateThroughput_withAndWithoutCapture() throws Exception {
        try (PgFixture pg = PgFixture.migrated("capture_cost")) {
            pg.sql(
                    "INSERT INTO groups (name, platform) SELECT 'g' || i, 'anthropic' FROM generate_series(1, 20) i",
                    "INSERT INTO accounts (name, platform, type) SELECT 'a' || i, 'anthropic', 'oauth'"
                            + " FROM generate_series(1, " + ACCOUNTS + ") i",
                    "INSERT INTO account_groups (account_id, group_id) SELECT a.id, 1 + a.id % 20 FROM accounts a",
                    "INSERT INTO account_groups (account_id, group_id) SELECT a.id, 1 + (a.id + 7) % 20 FROM accounts a"
                            + " WHERE a.id % 2 = 0",
                    "VACUUM ANALYZE");
            Map<String, String> arms = new LinkedHashMap<>();
            arms.put(
                    "no triggers (DISABLE TRIGGER USER), priority update",
                    "UPDATE accounts SET priority = ? WHERE id = ?");
            arms.put(
                    "capture on, priority update (emits account_changed + NOTIFY)",
                    "UPDATE accounts SET priority = ? WHERE id = ?");
            arms.put(
                    "capture on, last_used_at update (names no captured column, emits nothing)",
                    "UPDATE accounts SET last_used_at = now() - make_interval(secs => ?) WHERE id = ?");
            arms.put(
                    "capture on, token refresh in credentials (compared, emits nothing)",
                    "UPDATE accounts SET credentials = jsonb_set(credentials, '{access_token}', to_jsonb(?::int))"
                            + " WHERE id = ?");
            Map<String, long[]> nanos = new LinkedHashMap<>();
            arms.keySet().forEach(k -> nanos.put(k, new long[] {0}));
            try (Connection c = pg.bare()) {
                for (String arm : arms.keySet()) {
                    run(c, arm, arms.get(arm), 2_000, new Random(1)); // warm-up
                }
                for (int round = 0; round < ROUNDS; round++) {
                    for (String arm : arms.keySet()) {
                        nanos.get(arm)[0] += run(c, arm, arms.get(arm), PER_ARM / ROUNDS, new Random(round));
                    }
                }
            }
            StringBuilder report = new StringBuilder();
            report.append(String.format(
                    "capture cost: %d single-row autocommit UPDATEs per arm over %d accounts, %d interleaved rounds%n",
                    PER_ARM, ACCOUNTS, ROUNDS));
            double base = 0;
            for (Map.Entry<String, long[]> e : nanos.entrySet()) {
                double perSecond = PER_ARM / (e.getValue()[0] / 1e9);
                if (base == 0) {
                    base = perSecond;
                }
                report.append(String.format(
                        "  %-72s %9.0f updates/s  %6.1f us/update  %5.2fx baseline%n",
                        e.getKey(), perSecond, e.getValue()[0] / 1e3 / PER_ARM, perSecond / base));
            }
            System.out.print(report);
            Path out = Path.of("target", "capture-cost.txt");
            try {
                Files.writeString(out, report);
            } catch (IOException e) {
                throw new UncheckedIOException("the figure could not be written to " + out, e);
            }
            assertThat(pg.queryLong("SELECT count(*) FROM scheduler_outbox WHERE event_type = 'account_changed'"))
                    .isGreaterThanOrEqualTo(PER_ARM);
        }
    }

    private static long run(Connection c, String arm, String sql, int n, Random rnd) throws Exception {
        boolean baseline = arm.startsWith("no triggers");
        try (Statement st = c.createStatement()) {
            st.execute("ALTER TABLE accounts " + (baseline ? "DISABLE" : "ENABLE") + " TRIGGER USER");
        }
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                ps.setInt(1, i % 100);
                ps.setLong(2, 1 + rnd.nextInt(ACCOUNTS));
                ps.executeUpdate();
            }
            return System.nanoTime() - start;
        } finally {
            try (Statement st = c.createStatement()) {
                st.execute("ALTER TABLE accounts ENABLE TRIGGER USER");
            }
        }
    }
}
