package dev.roster.bench.e2e;

import java.util.List;

/**
 * The account pool of a scenario: {@code accounts} accounts over four platforms in {@code groups}
 * groups (group {@code g} is on platform {@code (g - 1) % 4}); account {@code i} is on platform {@code
 * (i - 1) % 4}, linked to one group of its platform, every fifth account to a second one; half the
 * antigravity accounts take part in mixed scheduling. Inserted with set-based SQL; the outbox rows
 * that capture writes for the seed are deleted afterwards, since the full rebuild at start covers them.
 */
record Pool(int accounts, int groups) {
    static final List<String> PLATFORMS = List.of("anthropic", "openai", "gemini", "antigravity");

    Pool {
        if (groups < 12 || groups % 4 != 0) {
            // Rebinds move an account two groups along on its platform: at least three per platform.
            throw new IllegalArgumentException("groups must be a multiple of 4 and >= 12: " + groups);
        }
    }

    int groupsPerPlatform() {
        return groups / 4;
    }

    /** The primary group of account {@code i}. */
    long primaryGroup(long i) {
        return groupAt(i, 0);
    }

    /** The group {@code shift} places along from account {@code i}'s primary group, same platform. */
    long groupAt(long i, int shift) {
        long p = (i - 1) % 4;
        long k = (((i - 1) / 4) + shift) % groupsPerPlatform();
        return 1 + p + 4 * k;
    }

    void insert(Stores s) {
        String platforms = "(ARRAY['anthropic','openai','gemini','antigravity'])";
        int gpp = groupsPerPlatform();
        s.sql(
                "INSERT INTO groups (id, name, platform) SELECT g, 'group-' || g, " + platforms
                        + "[1 + (g - 1) % 4] FROM generate_series(1, " + groups + ") g",
                "INSERT INTO accounts (id, name, platform, type, priority, credentials, extra)"
                        + " SELECT i, 'pool-account-' || i, " + platforms + "[1 + (i - 1) % 4],"
                        + " CASE WHEN i % 3 = 0 THEN 'apikey' ELSE 'oauth' END, i % 10,"
                        + " '{\"model_mapping\":{\"model-a\":\"a\",\"model-b\":\"b\",\"model-c\":\"c\"}}',"
                        + " CASE WHEN (i - 1) % 4 = 3 AND i % 2 = 0 THEN '{\"mixed_scheduling\":true}'::jsonb"
                        + " ELSE '{}'::jsonb END FROM generate_series(1, " + accounts + ") i",
                "INSERT INTO account_groups (account_id, group_id, priority)"
                        + " SELECT i, 1 + (i - 1) % 4 + 4 * (((i - 1) / 4) % " + gpp + "), i % 3"
                        + " FROM generate_series(1, " + accounts + ") i"
                        + " UNION ALL SELECT i, 1 + (i - 1) % 4 + 4 * (((i - 1) / 4 + 1) % " + gpp + "), 1"
                        + " FROM generate_series(1, " + accounts + ") i WHERE i % 5 = 0",
                "DELETE FROM scheduler_outbox",
                "VACUUM ANALYZE accounts",
                "VACUUM ANALYZE account_groups",
                "VACUUM ANALYZE groups");
    }
}
