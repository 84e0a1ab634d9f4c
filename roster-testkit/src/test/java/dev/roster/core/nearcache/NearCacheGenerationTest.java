package dev.roster.core.nearcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.config.NearCacheConfig;
import dev.roster.core.internal.CurrentGeneration;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.Snapshot;
import dev.roster.testkit.TestClock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The near cache with the service's real {@link CurrentGeneration}: the predicate asked on every
 * install reads nothing, and a new generation another instance built is adopted on the cache's own
 * read paths (an invalidation carrying it, a load), so a warm instance that does not replay moves to it.
 */
class NearCacheGenerationTest {
    private static final String FP = "fp";
    private static final Duration MAX_STALE = Duration.ofMinutes(10);
    private static final NearCacheConfig CONFIG =
            NearCacheConfig.DEFAULTS.withTiming(MAX_STALE, MAX_STALE.minusMinutes(1));
    private static final Bucket A = Bucket.of(0, "openai", Mode.SINGLE);

    private final TestClock clock = TestClock.at(TestClock.T0);
    private final HandDrivenProjection projection = new HandDrivenProjection();
    private final Generation g1 = Generation.random(FP);
    private final Generation g2 = Generation.random(FP);
    private NearCache cache;

    @AfterEach
    void close() {
        if (cache != null) {
            cache.close();
        }
    }

    private CurrentGeneration servingG1() {
        projection.generation = g1;
        CurrentGeneration generation = new CurrentGeneration(projection, FP);
        assertThat(generation.adoptStored()).isTrue();
        return generation;
    }

    @Test
    void acceptingReadsNothingEvenForAGenerationItDoesNotKnow() {
        CurrentGeneration generation = servingG1();
        projection.generation = g2;
        long reads = projection.generationReads.get();

        assertThat(generation.accepts(g1.id())).isTrue();
        assertThat(generation.accepts(g2.id())).isFalse();
        projection.down = true;
        assertThat(generation.accepts(g2.id())).as("no store is asked").isFalse();
        assertThat(projection.generationReads.get()).isEqualTo(reads);
        assertThat(generation.id()).isEqualTo(g1.id());
    }

    @Test
    void aWarmCacheMovesToTheNewGenerationOnAnInvalidationCarryingIt() {
        CurrentGeneration generation = servingG1();
        cache = new NearCache(projection, generation, clock, CONFIG).start();
        projection.stored.put(A, snap(g1.id(), 7));
        assertThat(cache.load(A).snapshot().generation()).isEqualTo(g1.id());

        long reads = projection.generationReads.get();
        for (int i = 0; i < 100; i++) {
            assertThat(cache.get(A)).isNotNull();
        }
        assertThat(projection.generationReads.get())
                .as("the hot path reads no generation")
                .isEqualTo(reads);

        // Another instance rebuilt everything under g2 (its versions start again at 1).
        projection.generation = g2;
        Snapshot rebuilt = snap(g2.id(), 1);
        projection.stored.put(A, rebuilt);
        projection.invalidate(rebuilt);

        await().atMost(Duration.ofSeconds(10))
                .until(() -> cache.get(A) != null
                        && cache.get(A).snapshot().generation().equals(g2.id()));
        assertThat(generation.id()).isEqualTo(g2.id());
        assertThat(generation.ready()).isTrue();
    }

    @Test
    void anAbandonedGenerationIsRefusedWithoutReadingTheStore() {
        CurrentGeneration generation = servingG1();
        generation.rebuildStarted(g2.id(), g1.id());
        long reads = projection.generationReads.get();

        assertThat(generation.adoptIfStored(g1.id())).isFalse();
        assertThat(projection.generationReads.get()).isEqualTo(reads);
        assertThat(generation.adoptIfStored(g2.id())).isTrue();
        assertThat(generation.adoptStored())
                .as("g1 is still stored, and abandoned")
                .isFalse();
        assertThat(generation.id()).isEqualTo(g2.id());
    }

    @Test
    void theEndOfARebuildDoesNotUndoAGenerationAdoptedDuringIt() {
        CurrentGeneration generation = servingG1();
        Generation mine = Generation.random(FP);
        generation.rebuildStarted(mine.id(), null);
        // Another instance's rebuild stored its generation while this one ran; this instance adopted it.
        projection.generation = g2;
        assertThat(generation.adoptStored()).isTrue();

        generation.rebuilt(mine.id());
        assertThat(generation.id()).isEqualTo(g2.id());
        assertThat(generation.ready()).isTrue();
    }

    private static Snapshot snap(String generation, long version) {
        AccountCard c = AccountCard.builder()
                .id(version)
                .name("v" + version)
                .platform("openai")
                .type("apikey")
                .status("active")
                .schedulable(true)
                .priority(1)
                .concurrency(3)
                .updatedAt(java.time.Instant.EPOCH)
                .build();
        return new Snapshot(A, generation, version, List.of(c));
    }
}
