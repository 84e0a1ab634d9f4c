package dev.roster.core.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** When the model may publish a bucket (decisions M22 and E12), on {@link BucketContents} alone. */
class BucketContentsTest {
    private static final Bucket B = new Bucket(3, "openai", Mode.SINGLE);

    @Test
    void aBucketFirstAllocatedHereIsReadFromTheDatabaseThenTheModelTakesItBack() {
        BucketContents c = new BucketContents();
        assertThat(c.modelMayPublish(B, 5))
                .as("never allocated in this process")
                .isFalse();
        c.databaseRead(B, 100, List.of());
        c.watermark(99);
        assertThat(c.modelMayPublish(B, 6))
                .as("the cursor has not passed the read")
                .isFalse();
        c.watermark(100);
        assertThat(c.modelMayPublish(B, 7)).isTrue();
        assertThat(c.modelMayPublish(B, 9)).as("another publisher allocated 8").isFalse();
    }

    @Test
    void aDeferredDatabaseReadKeepsTheModelOutUntilSomeReadIsRecorded() {
        BucketContents c = new BucketContents();
        c.modelMayPublish(B, 1);
        c.watermark(10);
        assertThat(c.modelMayPublish(B, 2)).isTrue();
        c.databasePending(B);
        assertThat(c.modelMayPublish(B, 3))
                .as("a rebuild deferred its read of the bucket: the replay thread may not publish the model's content")
                .isFalse();
        assertThat(c.lastAllocated(B, 3)).isTrue();
        assertThat(c.lastAllocated(B, 2)).isFalse();
        c.databaseRead(B, 10, List.of());
        assertThat(c.modelMayPublish(B, 4))
                .as("the read is recorded and the cursor is past it")
                .isTrue();
    }
}
