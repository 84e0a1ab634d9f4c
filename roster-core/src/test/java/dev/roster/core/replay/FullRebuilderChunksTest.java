package dev.roster.core.replay;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The chunks a rebuild publishes from the shared view under the replay thread's lock: bounded in buckets
 * and in cards, so that no single hold encodes several large buckets.
 */
class FullRebuilderChunksTest {

    @Test
    void aLargeBucketIsAChunkOfItsOwn_andSmallOnesFillChunksBelowTheCardBound() {
        Map<String, Integer> sizes = new LinkedHashMap<>();
        sizes.put("small-1", 100);
        sizes.put("group0-a", 25_000);
        sizes.put("group0-b", 25_000);
        for (int i = 2; i <= 40; i++) {
            sizes.put("small-" + i, 100);
        }

        List<List<String>> chunks = FullRebuilder.viewChunks(sizes.keySet(), sizes::get);

        assertThat(chunks).contains(List.of("group0-a"), List.of("group0-b"));
        for (List<String> c : chunks) {
            int cards = c.stream().mapToInt(sizes::get).sum();
            assertThat(c.size() == 1 || cards < 2_000)
                    .as("chunk %s holds %d cards", c, cards)
                    .isTrue();
        }
        assertThat(chunks.stream().flatMap(List::stream).toList()).containsExactlyElementsOf(sizes.keySet());
    }

    @Test
    void manyEmptyBuckets_areCutAtTheBucketBound() {
        List<Integer> keys = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            keys.add(i);
        }

        List<List<Integer>> chunks = FullRebuilder.viewChunks(keys, k -> 0);

        assertThat(chunks).allSatisfy(c -> assertThat(c).hasSizeLessThanOrEqualTo(64));
        assertThat(chunks).hasSize(4);
    }
}
