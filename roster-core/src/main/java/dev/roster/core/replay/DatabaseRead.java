package dev.roster.core.replay;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.internal.Engine;
import dev.roster.core.outbox.OutboxRead;
import dev.roster.core.pool.PoolModel;
import dev.roster.core.projection.VersionTicket;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Reads buckets from the database for publishes whose versions were just allocated, when the model's
 * content may be older than what another publisher already showed readers (see {@link
 * BucketContents#modelMayPublish}), and records up to where that read reaches.
 */
final class DatabaseRead {
    /** Below this many buckets a read is always one query per bucket. */
    static final int BULK_MIN_BUCKETS = 32;
    /**
     * One bucket query costs about as much as streaming this many accounts in the bulk load (an index
     * scan, a sort and a round trip against a sequential read): past that the pool is read in bulk.
     */
    static final int ACCOUNTS_PER_BUCKET_QUERY = 100;

    private DatabaseRead() {}

    /**
     * Replaces, in {@code batch}, the content of every ticket of {@code tickets} with its bucket read now
     * from the database, and records the reads in {@code contents}. A few buckets are read one query each;
     * many (the first publish of every bucket in a process, say) are computed from one bulk load of the
     * pool into a fresh model, by the same computation the replay model uses, which costs a few
     * streamed statements instead of one query per bucket ({@link #bulk}). Either read starts after the
     * tickets were allocated, which is what makes it newer than any publish under an older version. Then
     * one snapshot read for all of them (every read has finished by then).
     *
     * @param poolAccounts how many accounts the pool holds (the model's count), to choose the read
     */
    static void replace(
            Engine engine,
            BucketContents contents,
            Map<VersionTicket, List<AccountCard>> batch,
            Collection<VersionTicket> tickets,
            int poolAccounts) {
        if (tickets.isEmpty()) {
            return;
        }
        batch.putAll(read(engine, tickets, poolAccounts));
        long covered = coveredBelow(engine);
        for (VersionTicket t : tickets) {
            // read answers for every ticket it is given.
            contents.databaseRead(t.bucket(), covered, Objects.requireNonNull(batch.get(t), "content"));
        }
    }

    /**
     * Each ticket's bucket read now from the database, in the order of {@code tickets}, without recording
     * anything: one query per bucket, or one bulk load when that is cheaper ({@link #bulk}).
     */
    static Map<VersionTicket, List<AccountCard>> read(
            Engine engine, Collection<VersionTicket> tickets, int poolAccounts) {
        Map<VersionTicket, List<AccountCard>> out = new LinkedHashMap<>();
        if (bulk(tickets.size(), poolAccounts)) {
            PoolModel fresh =
                    new PoolModel(engine.config().runMode(), engine.config().effectiveGroup0Scope());
            engine.source().loadPool(fresh);
            List<Bucket> buckets = new ArrayList<>(tickets.size());
            for (VersionTicket t : tickets) {
                buckets.add(t.bucket());
            }
            Map<Bucket, List<AccountCard>> read = fresh.buckets(buckets);
            for (VersionTicket t : tickets) {
                out.put(t, read.get(t.bucket()));
            }
        } else {
            for (VersionTicket t : tickets) {
                out.put(t, engine.load(t.bucket()));
            }
        }
        return out;
    }

    /** Whether {@code buckets} bucket reads cost more than one bulk load of a pool of {@code poolAccounts}. */
    static boolean bulk(int buckets, int poolAccounts) {
        return buckets >= BULK_MIN_BUCKETS && (long) buckets * ACCOUNTS_PER_BUCKET_QUERY >= poolAccounts;
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
