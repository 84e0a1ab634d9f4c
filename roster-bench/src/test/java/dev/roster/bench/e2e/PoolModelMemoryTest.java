package dev.roster.bench.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The replayer's pool model at 100,000 accounts in 1,000 groups retains at most 150 MB of heap
 * (measured after full collections with and without the model, see {@link PoolModelScenario}). A
 * measurement, so it runs only with {@code -Pbench}; {@code -Droster.bench.poolmodel.accounts=N}
 * runs it at another size with the same bound.
 */
@Tag("bench")
class PoolModelMemoryTest {
    static final long BOUND = 150L << 20;

    @Test
    void aModelOf100kAccountsRetainsAtMost150MB() {
        int accounts = Integer.getInteger("roster.bench.poolmodel.accounts", 100_000);
        Pool pool = new Pool(accounts, 1_000);
        PoolModelScenario.Result r;
        try (Stores s = Stores.start("poolmodel-test")) {
            pool.insert(s);
            r = PoolModelScenario.measure(s, pool);
        }
        assertThat(r.modelAccounts()).as("accounts in the model").isEqualTo(accounts);
        assertThat(r.cardInstances())
                .as("AccountCard instances the model holds (class histogram): the measurement saw the model")
                .isGreaterThanOrEqualTo(accounts);
        assertThat(r.retained())
                .as(
                        "heap retained by the model: %s (histogram: %s)",
                        PoolModelScenario.mb(r.retained()), PoolModelScenario.mb(r.retainedByHistogram()))
                .isPositive()
                .isLessThanOrEqualTo(BOUND);
    }
}
