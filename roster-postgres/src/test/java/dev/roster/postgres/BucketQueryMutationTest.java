package dev.roster.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Kills the PIT mutants of {@link PostgresSchedulingSource} that the bucket-query tests leave
 * (see the testing notes): the source's outbox is a live view of the same database, not a stand-in; and
 * the full rebuild's card stream lists every live account, in id order, and hands its connection
 * back as it found it.
 */
class BucketQueryMutationTest {
    static PgFixture pg;
    static PostgresSchedulingSource source;

    @BeforeAll
    static void setUp() {
        pg = PgFixture.migrated("bucket_query_mutation");
        source = new PostgresSchedulingSource(pg.ds);
    }

    @AfterAll
    static void tearDown() {
        pg.close();
    }

    @Test
    void outbox_seesTheChangesCapturedInTheSourcesDatabase() {
        long before = source.outbox().stats(0, Set.of()).pending();
        pg.sql("INSERT INTO groups (name, platform) VALUES ('mutation-g', 'openai')");
        assertThat(source.outbox().stats(0, Set.of()).pending()).isGreaterThan(before);
    }

    @Test
    void loadAllCards_streamsEveryLiveAccountInIdOrderAndRestoresTheConnection() throws Exception {
        pg.sql("DELETE FROM account_groups", "DELETE FROM accounts");
        long live = pg.account("all-live", "openai");
        long disabled = pg.account("all-disabled", "openai");
        long deleted = pg.account("all-deleted", "anthropic");
        long other = pg.account("all-other", "anthropic");
        pg.sql(
                "UPDATE accounts SET status = 'disabled' WHERE id = " + disabled,
                "UPDATE accounts SET deleted_at = now() WHERE id = " + deleted);

        try (Connection one = pg.bare()) {
            List<AccountCard> cards = new ArrayList<>();
            new PostgresSchedulingSource(singleConnection(one)).loadAllCards(cards::add);

            // Disabled accounts have cards too (GET /v1/accounts/{id} answers for them); soft-deleted do not.
            assertThat(cards).extracting(AccountCard::id).containsExactly(live, disabled, other);
            assertThat(cards).extracting(AccountCard::name).containsExactly("all-live", "all-disabled", "all-other");
            assertThat(cards.get(1).status()).isEqualTo("disabled");
            assertThat(cards.get(2).platform()).isEqualTo("anthropic");
            assertThat(one.getAutoCommit())
                    .as("the caller's auto-commit is restored (a pool or a caller reuses the connection)")
                    .isTrue();
        }
    }

    /** A data source that always hands out {@code c}, whose {@code close} is left to the test. */
    private static DataSource singleConnection(Connection c) {
        Connection kept = (Connection) Proxy.newProxyInstance(
                Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, (p, m, args) -> {
                    if (m.getName().equals("close")) {
                        return null;
                    }
                    try {
                        return m.invoke(c, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        return (DataSource) Proxy.newProxyInstance(
                DataSource.class.getClassLoader(), new Class<?>[] {DataSource.class}, (p, m, args) -> {
                    if (m.getName().equals("getConnection")) {
                        return kept;
                    }
                    throw new UnsupportedOperationException(m.getName());
                });
    }
}
