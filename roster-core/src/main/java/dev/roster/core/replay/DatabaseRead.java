package dev.roster.core.replay;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.internal.Engine;
import dev.roster.core.outbox.OutboxRead;
import java.util.List;
import java.util.Set;

/**
 * Reads one bucket from the database for a publish whose version was just allocated, when the model's
 * content may be older than what another publisher already showed readers (see {@link
 * BucketContents#modelMayPublish}), and records up to where that read reaches.
 */
final class DatabaseRead {
    private DatabaseRead() {}

    /** The bucket's content read now from the database, recorded in {@code contents}. */
    static List<AccountCard> bucket(Engine engine, BucketContents contents, Bucket bucket) {
        List<AccountCard> cards = engine.load(bucket);
        contents.databaseRead(bucket, coveredBelow(engine), cards);
        return cards;
    }

    /**
     * A transaction id below which lies every transaction a read that has finished could see: the
     * {@code xmax} of a snapshot taken after it (transaction ids are handed out in order), or, for a
     * source without snapshots, its horizon.
     */
    static long coveredBelow(Engine engine) {
        OutboxRead r = engine.source().outbox().read(Long.MAX_VALUE, Set.of(), null, 1);
        String snapshot = r.snapshot();
        if (snapshot != null) {
            String[] parts = snapshot.split(":", 3);
            if (parts.length >= 2) {
                return Long.parseUnsignedLong(parts[1]);
            }
        }
        return r.horizon();
    }
}
