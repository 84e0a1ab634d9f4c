package dev.roster.core.replay;

import dev.roster.core.AccountCard;
import dev.roster.core.internal.Engine;
import dev.roster.core.outbox.OutboxRead;
import dev.roster.core.projection.VersionTicket;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads buckets from the database for publishes whose versions were just allocated, when the model's
 * content may be older than what another publisher already showed readers (see {@link
 * BucketContents#modelMayPublish}), and records up to where that read reaches.
 */
final class DatabaseRead {
    private DatabaseRead() {}

    /**
     * Replaces, in {@code batch}, the content of every ticket of {@code tickets} with its bucket read now
     * from the database, and records the reads in {@code contents}: one query per bucket, then one
     * snapshot read for all of them (every read has finished by then).
     */
    static void replace(
            Engine engine,
            BucketContents contents,
            Map<VersionTicket, List<AccountCard>> batch,
            Collection<VersionTicket> tickets) {
        if (tickets.isEmpty()) {
            return;
        }
        for (VersionTicket t : tickets) {
            batch.put(t, engine.load(t.bucket()));
        }
        long covered = coveredBelow(engine);
        for (VersionTicket t : tickets) {
            contents.databaseRead(t.bucket(), covered, batch.get(t));
        }
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
