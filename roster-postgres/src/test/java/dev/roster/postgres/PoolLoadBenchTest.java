package dev.roster.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.source.GroupInfo;
import dev.roster.core.source.PoolSink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The full pool load at 100,000 accounts and 1,000 groups: {@link PostgresSchedulingSource#loadPool}
 * (links aggregated in bulk) beside streaming every card with its links read per account ({@code
 * loadAllCards}), best of three runs each. Tag {@code bench}: run with {@code -Pbench}.
 */
@Tag("bench")
class PoolLoadBenchTest {
    static final int ACCOUNTS = Integer.getInteger("roster.bench.poolAccounts", 100_000);
    static final int GROUPS = 1_000;

    @Test
    void fullPoolLoad_at100kAccounts() {
        try (PgFixture pg = PgFixture.migrated("pool_load_bench")) {
            pg.sql(
                    "ALTER TABLE accounts DISABLE TRIGGER USER",
                    "ALTER TABLE account_groups DISABLE TRIGGER USER",
                    "ALTER TABLE groups DISABLE TRIGGER USER",
                    "INSERT INTO groups (name, platform) SELECT 'g' || i, 'anthropic' FROM generate_series(1, " + GROUPS
                            + ") i",
                    "INSERT INTO accounts (name, platform, type, credentials) SELECT 'a' || i, 'anthropic', 'oauth',"
                            + " '{\"access_token\":\"t\",\"model_mapping\":{\"m1\":\"x\",\"m2\":\"y\"}}'"
                            + " FROM generate_series(1, " + ACCOUNTS + ") i",
                    "INSERT INTO account_groups (account_id, group_id, priority) SELECT a.id, 1 + a.id % " + GROUPS
                            + ", 1 FROM accounts a",
                    "INSERT INTO account_groups (account_id, group_id, priority) SELECT a.id, 1 + (a.id + 7) % "
                            + GROUPS + ", 2 FROM accounts a WHERE a.id % 2 = 0",
                    "ALTER TABLE accounts ENABLE TRIGGER USER",
                    "ALTER TABLE account_groups ENABLE TRIGGER USER",
                    "ALTER TABLE groups ENABLE TRIGGER USER",
                    "VACUUM ANALYZE");
            PostgresSchedulingSource source = new PostgresSchedulingSource(pg.ds);
            AtomicLong cards = new AtomicLong();
            AtomicLong groups = new AtomicLong();
            AtomicLong links = new AtomicLong();
            PoolSink sink = new PoolSink() {
                @Override
                public void group(GroupInfo group) {
                    groups.incrementAndGet();
                }

                @Override
                public void account(AccountCard card) {
                    cards.incrementAndGet();
                    links.addAndGet(card.groups().size());
                }
            };
            long bulk = Long.MAX_VALUE;
            long perAccount = Long.MAX_VALUE;
            for (int run = 0; run < 3; run++) {
                cards.set(0);
                groups.set(0);
                links.set(0);
                long start = System.nanoTime();
                source.loadPool(sink);
                bulk = Math.min(bulk, System.nanoTime() - start);
                assertThat(cards.get()).isEqualTo(ACCOUNTS);
                assertThat(groups.get()).isEqualTo(GROUPS);
                assertThat(links.get()).isEqualTo(ACCOUNTS + ACCOUNTS / 2);
                start = System.nanoTime();
                source.loadAllCards(sink::account);
                perAccount = Math.min(perAccount, System.nanoTime() - start);
            }
            String report = String.format(
                    "pool load: %d accounts, %d groups, best of 3%n  loadPool (links aggregated in bulk) %8.0f ms%n"
                            + "  loadAllCards (links per account)     %8.0f ms%n",
                    ACCOUNTS, GROUPS, bulk / 1e6, perAccount / 1e6);
            System.out.print(report);
            Path out = Path.of("target", "pool-load.txt");
            try {
                Files.writeString(out, report);
            } catch (IOException e) {
                throw new UncheckedIOException("the figure could not be written to " + out, e);
            }
        }
    }
}
