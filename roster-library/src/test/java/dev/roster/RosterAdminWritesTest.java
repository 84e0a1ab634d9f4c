package dev.roster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.roster.core.AccountCard;
import dev.roster.core.status.PoolStatus;
import dev.roster.postgres.AccountAdmin;
import dev.roster.postgres.AccountView;
import dev.roster.postgres.GroupView;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A library user administers accounts and groups through {@link RosterAdmin}, with the admin API's own
 * rules (one transaction per write, merge patch, strict replace, credentials merged by key), on real
 * PostgreSQL and Redis; the writes reach the hot path through the capture triggers.
 */
class RosterAdminWritesTest {
    static final String SECRET = "sk-library-admin-secret";
    static Servers servers;
    static Roster roster;
    static AccountAdmin accounts;

    @BeforeAll
    static void start() {
        servers = new Servers(RosterAdminWritesTest.class, "admin");
        roster = servers.roster().build();
        accounts = roster.admin().accounts();
    }

    @AfterAll
    static void stop() {
        if (roster != null) {
            roster.close();
        }
    }

    @Test
    void a_library_user_gets_the_same_admin_operations_and_the_hot_path_follows() {
        GroupView g = roster.admin().groups().create(Map.of("name", "lib", "platform", "openai"));
        AccountView a = accounts.create(Map.of(
                "name",
                "lib-a",
                "platform",
                "openai",
                "type",
                "apikey",
                "credentials",
                Map.of("api_key", SECRET, "model_mapping", Map.of("gpt-x", "gpt-x")),
                "groups",
                List.of(Map.of("id", g.id()))));
        assertThat(a.priority()).isEqualTo(50);
        assertThat(a.groups()).containsExactly(new AccountView.Link(g.id(), 1));
        assertThat(a.toString()).doesNotContain(SECRET);

        // An errored, switched-off account renamed by a merge patch stays as it was otherwise.
        accounts.patch(
                a.id(), Map.of("status", "error", "schedulable", false, "rate_limit_reset_at", "2099-01-01T00:00:00Z"));
        AccountView renamed = accounts.patch(a.id(), Map.of("name", "lib-a2")).orElseThrow();
        assertThat(renamed.status()).isEqualTo("error");
        assertThat(renamed.schedulable()).isFalse();
        assertThat(renamed.rateLimitResetAt()).isEqualTo(Instant.parse("2099-01-01T00:00:00Z"));

        // Rotating the secret keeps the mapping.
        AccountView rotated = accounts.patch(a.id(), Map.of("credentials", Map.of("api_key", SECRET + "-2")))
                .orElseThrow();
        assertThat(rotated.supportedModels()).containsExactly("gpt-x");

        // A replace that omits fields is refused, naming them, and changes nothing.
        assertThatThrownBy(() -> accounts.replace(a.id(), Map.of("name", "x", "platform", "openai", "type", "apikey")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("missing field(s)")
                .hasMessageContaining("status");
        assertThat(accounts.get(a.id()).orElseThrow()).isEqualTo(rotated);

        // A refused link rolls the whole write back.
        Map<String, Object> bad = new HashMap<>(Map.of("name", "never", "groups", List.of(Map.of("id", 999_999))));
        assertThatThrownBy(() -> accounts.patch(a.id(), bad))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("do not exist or are deleted");
        assertThat(accounts.get(a.id()).orElseThrow()).isEqualTo(rotated);

        // Back to schedulable with a new priority: the bucket shows it.
        Map<String, Object> heal = new HashMap<>();
        heal.put("status", "active");
        heal.put("schedulable", true);
        heal.put("rate_limit_reset_at", null);
        heal.put("priority", 7);
        accounts.patch(a.id(), heal);
        await().atMost(Duration.ofSeconds(20))
                .untilAsserted(
                        () -> assertThat(roster.list(g.id(), "openai", false).accounts())
                                .extracting(AccountCard::id, AccountCard::priority, AccountCard::supportedModels)
                                .containsExactly(org.assertj.core.groups.Tuple.tuple(a.id(), 7, List.of("gpt-x"))));

        // The status page's reads and the dead-letter count are the library's too.
        PoolStatus.Page page =
                roster.admin().pool().accounts(new PoolStatus.Filter("lib-a2", null, null, null), Instant.now(), 0, 10);
        assertThat(page.total()).isEqualTo(1);
        assertThat(page.rows().getFirst().groups()).containsExactly(new PoolStatus.GroupRef(g.id(), "lib"));
        assertThat(roster.admin().deadLetterCount()).isZero();
    }
}
