package dev.roster.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admin views' shared reads ({@link ViewQuery}) on real PostgreSQL: keyset pages in id order after
 * a key, deleted rows only when asked for, a read by id that sees deleted rows, for accounts and groups.
 */
class AdminPagingTest {
    private static PgFixture pg;
    private static AccountAdmin accounts;
    private static GroupAdmin groups;

    @BeforeAll
    static void start() {
        pg = PgFixture.migrated("adminpaging");
        accounts = new AccountAdmin(pg.ds);
        groups = new GroupAdmin(pg.ds);
        pg.sql(
                "INSERT INTO accounts (name, platform, type) SELECT 'p' || g, 'openai', 'apikey'"
                        + " FROM generate_series(1, 5) g",
                "INSERT INTO groups (name, platform) SELECT 'g' || g, 'openai' FROM generate_series(1, 5) g");
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    @Test
    void accountsPageInIdOrderAfterTheKeyAndHideDeletedOnesUnlessAsked() {
        List<Long> all =
                accounts.page(0, 100, false).stream().map(AccountView::id).toList();
        assertThat(all).hasSize(5).isSorted();

        assertThat(accounts.page(all.get(1), 2, false))
                .extracting(AccountView::id)
                .containsExactly(all.get(2), all.get(3));
        assertThat(accounts.delete(all.get(2))).isTrue();
        assertThat(accounts.page(all.get(1), 2, false))
                .extracting(AccountView::id)
                .containsExactly(all.get(3), all.get(4));
        assertThat(accounts.page(all.get(1), 2, true))
                .extracting(AccountView::id)
                .containsExactly(all.get(2), all.get(3));
        assertThat(accounts.get(all.get(2))).get().extracting(AccountView::name).isEqualTo("p3");
        assertThat(accounts.get(all.getLast() + 1000)).isEmpty();
    }

    @Test
    void groupsPageInIdOrderAfterTheKeyAndHideDeletedOnesUnlessAsked() {
        List<Long> all = groups.page(0, 100, false).stream().map(GroupView::id).toList();
        assertThat(all).hasSize(5).isSorted();

        assertThat(groups.page(all.get(0), 3, false))
                .extracting(GroupView::id)
                .containsExactly(all.get(1), all.get(2), all.get(3));
        assertThat(groups.delete(all.get(1))).isTrue();
        assertThat(groups.page(all.get(0), 3, false))
                .extracting(GroupView::id)
                .containsExactly(all.get(2), all.get(3), all.get(4));
        assertThat(groups.page(all.get(0), 3, true))
                .extracting(GroupView::id)
                .containsExactly(all.get(1), all.get(2), all.get(3));
        assertThat(groups.get(all.get(1))).get().extracting(GroupView::name).isEqualTo("g2");
    }
}
