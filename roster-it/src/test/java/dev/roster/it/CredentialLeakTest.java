package dev.roster.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.AccountCard;
import dev.roster.core.service.SnapshotService;
import dev.roster.embedded.RespConnection;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.AccountSpec;
import dev.roster.postgres.GroupRepository;
import dev.roster.redis.RedisProjection;
import dev.roster.testkit.RedisHarness;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * No credential leaves PostgreSQL. Real {@code accounts} rows carry secrets ({@code api_key},
 * {@code access_token}, {@code refresh_token}, the targets of {@code model_mapping}); the production
 * mapper reads them through a full rebuild (the bucket query) and through replay (the card reload),
 * the Redis projection stores what it made of them, and then every key and value on the Redis server
 * is read back: no secret may appear anywhere. The rows are written as plain SQL and through the
 * repository, so nothing in the test removes a secret before production code sees it.
 */
class CredentialLeakTest {
    static ItEnv env;

    @BeforeAll
    static void setUp() {
        env = new ItEnv("credentials");
    }

    @AfterAll
    static void tearDown() {
        env.close();
    }

    /** Credentials JSON whose every value except the model-mapping keys contains {@code secret}. */
    private static String credentials(String secret) {
        return "{\"api_key\": \"" + secret + "-api\", \"access_token\": \"" + secret + "-access\","
                + " \"refresh_token\": \"" + secret + "-refresh\", \"client_secret\": \"" + secret + "-client\","
                + " \"model_mapping\": {\"claude-sonnet-4\": \"" + secret + "-target\", \"gpt-5\": \"gpt-5\"}}";
    }

    @Test
    void aRebuildAndAReplayOfRowsWithCredentialsLeaveNoSecretInRedis() {
        // ASCII only: the projection's values are binary, read back here as UTF-8, where an ASCII
        // string stays a contiguous substring.
        String secret = "SECRET" + Long.toHexString(System.nanoTime());
        String later = "LATER" + Long.toHexString(System.nanoTime());
        env.truncatePool();
        AccountRepository accounts = new AccountRepository(env.ds);
        long g = new GroupRepository(env.ds).create("team", "anthropic");
        long grouped = env.queryLong("INSERT INTO accounts (name, platform, type, credentials) VALUES"
                + " ('oauth-grouped', 'anthropic', 'oauth', '" + credentials(secret) + "') RETURNING id");
        env.sql("INSERT INTO account_groups (account_id, group_id, priority) VALUES (" + grouped + ", " + g + ", 0)");
        long loose = env.queryLong("INSERT INTO accounts (name, platform, type, credentials) VALUES"
                + " ('oauth-loose', 'anthropic', 'oauth', '" + credentials(secret) + "') RETURNING id");
        long mixed = env.queryLong("INSERT INTO accounts (name, platform, type, credentials, extra) VALUES"
                + " ('ag-mixed', 'antigravity', 'oauth', '" + credentials(secret)
                + "', '{\"mixed_scheduling\": true}') RETURNING id");
        long viaRepository = accounts.create(
                AccountSpec.of("repo-key", "anthropic", "apikey")
                        .withCredentials(Map.of(
                                "api_key",
                                secret + "-repo",
                                "model_mapping",
                                Map.of("claude-sonnet-4", secret + "-repo-target"))),
                List.of(g));
        List<Long> all = List.of(grouped, loose, mixed, viaRepository);

        String prefix = RedisHarness.shared().keyPrefix(CredentialLeakTest.class);
        try (RedisProjection p = env.projection(prefix);
                SnapshotService s = env.service(p).inlineRebuilds(true).build()) {
            // The full rebuild maps the rows through the bucket query.
            s.requestFullRebuild("start").join();
            assertThat(ids(s.list(g, "anthropic", false).accounts())).containsExactly(grouped, viaRepository);
            assertThat(ids(s.list(0L, "anthropic", false).accounts())).contains(grouped, loose, mixed, viaRepository);

            // Replay reloads the cards: a new secret arrives with a change that emits an event.
            env.sql("UPDATE accounts SET credentials = '" + credentials(later) + "', priority = priority + 1"
                    + " WHERE id IN (" + grouped + ", " + mixed + ")");
            s.replayer().drain();
            // Default priority 50, now 51: the card was rewritten by replay.
            assertThat(s.getAccount(grouped).orElseThrow().priority()).isEqualTo(51);

            Map<String, String> dump = dumpEveryKeyAndValue();
            String everything = String.join("\n", dump.values());
            // The scan must really see this test's values: the names, the model keys and every card.
            assertThat(everything)
                    .contains("oauth-grouped", "oauth-loose", "ag-mixed", "repo-key")
                    .contains("claude-sonnet-4", "gpt-5");
            assertThat(dump.keySet()).anyMatch(k -> k.startsWith(prefix));
            for (long id : all) {
                assertThat(dump).containsKey(p.keys().card(id));
                assertThat(s.getAccount(id).orElseThrow().supportedModels()).contains("claude-sonnet-4");
            }
            // Named by key, not by the whole dump: the values are binary and the server holds other tests' keys.
            List<String> leaks = dump.entrySet().stream()
                    .filter(e ->
                            (e.getKey() + e.getValue()).contains(secret) || (e.getKey() + e.getValue()).contains(later))
                    .map(Map.Entry::getKey)
                    .toList();
            assertThat(leaks).as("keys holding a credential").isEmpty();
        }
    }

    private static List<Long> ids(List<AccountCard> cards) {
        return cards.stream().map(AccountCard::id).toList();
    }

    /** Every key of the Redis server with its value as text, whatever test wrote it. */
    private static Map<String, String> dumpEveryKeyAndValue() {
        Map<String, String> out = new LinkedHashMap<>();
        try (RespConnection c = RedisHarness.shared().connect()) {
            String cursor = "0";
            do {
                List<?> page = (List<?>) c.command("SCAN", cursor, "COUNT", "1000");
                cursor = (String) page.get(0);
                for (Object k : (List<?>) page.get(1)) {
                    String key = (String) k;
                    String type = (String) c.command("TYPE", key);
                    Object value = switch (type) {
                        case "string" -> c.command("GET", key);
                        case "set" -> c.command("SMEMBERS", key);
                        case "hash" -> c.command("HGETALL", key);
                        case "list" -> c.command("LRANGE", key, "0", "-1");
                        case "zset" -> c.command("ZRANGE", key, "0", "-1", "WITHSCORES");
                        case "stream" -> c.command("XRANGE", key, "-", "+");
                        // Expired between SCAN and TYPE: nothing left to read.
                        case "none" -> "";
                        default -> throw new AssertionError("key " + key + " of unreadable type " + type);
                    };
                    out.put(key, String.valueOf(value));
                }
            } while (!"0".equals(cursor));
        }
        return out;
    }
}
