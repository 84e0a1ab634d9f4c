package dev.roster.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Kills the one PIT mutant of {@link PostgresSchedulingSource} that the bucket-query tests left
 * (docs/testing.md): the source's outbox is a live view of the same database, not a stand-in.
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
}
