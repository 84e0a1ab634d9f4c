package dev.roster.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.roster.core.AccountCard;
import dev.roster.core.service.ListResult;
import dev.roster.core.service.SnapshotService;
import dev.roster.core.service.StoreUnavailableException;
import dev.roster.postgres.AccountRepository;
import dev.roster.postgres.AccountSpec;
import dev.roster.redis.RedisProjection;
import dev.roster.testkit.RedisHarness;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A database error in the fallback reaches the caller as {@link StoreUnavailableException}, on real
 * PostgreSQL and Redis: Redis holds no snapshot and no card (nothing was rebuilt under this prefix), so
 * reads go to the database, whose {@code accounts} table is renamed away for the failure. The caller
 * gets the typed error at once (not a timeout), with a message that names the request and the
 * database's reason in one line, no stack trace and none of the account's or the database's secrets;
 * concurrent callers sharing the failed query all get it; and once the table is back the very next
 * reads succeed, so a failed query leaves nothing behind that stalls the fallback.
 */
class FallbackStoreErrorTest {
    /** A caller budget far above a healthy fallback: a stalled one fails as a timeout, not a hang. */
    static final Duration BUDGET = Duration.ofSeconds(10);

    static final String API_KEY = "sk-fallback-secret-4b1d9e";

    static ItEnv env;

    @BeforeAll
    static void setUp() {
        env = new ItEnv("fallbackerror");
    }

    @AfterAll
    static void tearDown() {
        env.close();
    }

    @Test
    void aFailingBucketQueryIsATypedErrorAndTheFallbackRecoversOnceTheTableIsBack() throws Exception {
        long a = new AccountRepository(env.ds)
                .create(AccountSpec.of("a", "openai", "apikey").withCredentials(Map.of("api_key", API_KEY)));
        try (RedisProjection p = env.projection(RedisHarness.shared().keyPrefix(FallbackStoreErrorTest.class));
                SnapshotService s = env.service(p).build()) {
            env.sql("ALTER TABLE accounts RENAME TO accounts_away");
            try {
                long before = s.fallbackQueries();
                Throwable list = catchThrowable(() -> s.list(null, "openai", false, BUDGET));
                assertTyped(list, "bucket 0:openai:single");
                Throwable card = catchThrowable(() -> s.getAccount(a, BUDGET));
                assertTyped(card, "account " + a);
                assertThat(s.fallbackQueries() - before)
                        .as("each read reached the database")
                        .isEqualTo(2);

                // Callers that share one failing query all get the typed error, none a timeout.
                int callers = 4;
                ExecutorService pool = Executors.newFixedThreadPool(callers);
                try {
                    CountDownLatch go = new CountDownLatch(1);
                    List<Future<Throwable>> fs = new ArrayList<>();
                    for (int i = 0; i < callers; i++) {
                        fs.add(pool.submit(() -> {
                            go.await();
                            return catchThrowable(() -> s.list(7L, "openai", false, BUDGET));
                        }));
                    }
                    go.countDown();
                    for (Future<Throwable> f : fs) {
                        assertTyped(f.get(30, TimeUnit.SECONDS), "bucket 7:openai:single");
                    }
                } finally {
                    pool.shutdownNow();
                }
            } finally {
                env.sql("ALTER TABLE accounts_away RENAME TO accounts");
            }

            // The failed queries left nothing in flight: the next reads run queries of their own and answer.
            long before = s.fallbackQueries();
            ListResult r = s.list(null, "openai", false, BUDGET);
            assertThat(r.source()).isEqualTo(ListResult.Source.DATABASE);
            assertThat(r.accounts()).extracting(AccountCard::id).containsExactly(a);
            assertThat(s.list(7L, "openai", false, BUDGET).accounts())
                    .as("group 7 does not exist")
                    .isEmpty();
            assertThat(s.getAccount(a, BUDGET)).map(AccountCard::id).hasValue(a);
            assertThat(s.fallbackQueries() - before).isEqualTo(3);
        }
    }

    private static void assertTyped(Throwable t, String what) {
        assertThat(t).isExactlyInstanceOf(StoreUnavailableException.class);
        String m = t.getMessage();
        assertThat(m)
                .as("names the request and the database's reason")
                .contains(what)
                .contains("accounts")
                .contains("does not exist");
        assertThat(m).as("one line, no stack trace text").doesNotContain("\n").doesNotContain("\tat ");
        assertThat(t.getStackTrace()).as("no stack trace is captured").isEmpty();
        assertThat(m)
                .as("no secret")
                .doesNotContain(API_KEY)
                .doesNotContain("api_key")
                .doesNotContain(env.db.jdbcUrl());
    }
}
