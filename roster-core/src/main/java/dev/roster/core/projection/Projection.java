package dev.roster.core.projection;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.outbox.CursorState;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The shared projection of the scheduling state (docs/architecture.md, "Redis: the projection"): bucket snapshots,
 * account cards with last-used beside them, and projection state (watermark, generation, bucket registry, leases).
 * PostgreSQL stays the source of truth; everything here can be rebuilt from it.
 *
 * <p><b>Snapshots.</b> A writer first {@linkplain #allocateVersion allocates} a version (which also
 * captures the bucket's fence epoch), then reads the database, then {@linkplain #publish publishes}.
 * Activation is atomic and happens only if the ticket's version is greater than the active one's and
 * the bucket was not retired since the ticket was allocated, so a writer that read earlier never
 * replaces newer data. Versions come from a per-bucket counter that only moves forward for as long as
 * the stored data lives (a flush removes the counter and the snapshots together), so "newer (generation,
 * version)" reduces to "greater version"; the generation is stamped on each snapshot so readers can
 * tell a replaced projection apart. Readers see either the previous or the new snapshot, never a mix
 * and never an empty intermediate state. A superseded snapshot stays readable by its version for the
 * grace period (default 60 s) and then expires.
 *
 * <p><b>Errors.</b> Every method may throw {@link ProjectionUnavailableException} when the store cannot
 * be reached or does not answer in time. Reads never throw {@link CorruptValueException}: they return
 * {@link Lookup.Corrupt} naming the key; a write whose stored state cannot be interpreted (e.g. a key
 * of an unexpected type) throws it. Bad arguments throw {@link IllegalArgumentException} or
 * {@link NullPointerException} naming the argument, before anything is written.
 *
 * <p><b>Secrets.</b> Only {@link AccountCard}s are stored, and cards have no credential fields.
 *
 * <p>Implementations are thread-safe.
 */
public interface Projection extends AutoCloseable {

    /** The default grace period of superseded snapshot versions. */
    Duration DEFAULT_GRACE = Duration.ofSeconds(60);

    /** The name of the replayer lease, the one that fences {@link #advanceWatermark}. */
    String REPLAYER_LEASE = "replayer";

    // ---- snapshots ---------------------------------------------------------------------------

    /**
     * Reads the bucket's active snapshot in one round trip.
     *
     * @return a hit (possibly with no cards), a miss when nothing is active (never built, or retired),
     *     or corrupt when the stored value cannot be decoded
     */
    Lookup<Snapshot> readSnapshot(Bucket bucket);

    /**
     * Reads the bucket's active snapshot like {@link #readSnapshot(Bucket)}, transferring only what
     * differs from {@code held}: a snapshot this method returned earlier for the same bucket, which the
     * caller still holds (a near cache's current entry). The answer is the one {@link
     * #readSnapshot(Bucket)} would give at that instant, read atomically (never a mix of two versions);
     * when the active snapshot is still {@code held}'s (generation, version) the answer may be {@code
     * held} itself, which costs the store a few bytes instead of the snapshot. A {@code held} this
     * projection does not recognise (another projection's, a database answer, {@code null}) makes a
     * full read. The default always reads in full.
     *
     * @param held the snapshot the caller holds for {@code bucket}, or {@code null}
     */
    default Lookup<Snapshot> refreshSnapshot(Bucket bucket, @Nullable Snapshot held) {
        return readSnapshot(bucket);
    }

    /**
     * Reads a specific version of the bucket's snapshot: the active one, or a superseded one still
     * within its grace period.
     */
    Lookup<Snapshot> readSnapshot(Bucket bucket, long version);

    /**
     * Allocates the next version of {@code bucket} and captures its fence epoch. Call this before the
     * database read whose result will be published.
     *
     * @return the ticket, or empty when the bucket is retired (no version is allocated then)
     */
    Optional<VersionTicket> allocateVersion(Bucket bucket);

    /**
     * Atomically activates {@code cards} as the snapshot of the ticket's bucket, if the ticket is newer
     * than the active snapshot and still within the bucket's current epoch; then the previous active
     * snapshot becomes superseded (readable by version for the grace period), the bucket is added to
     * the registry and an {@link Invalidation} is published. Last-used values are never touched.
     *
     * @param ticket from {@link #allocateVersion}
     * @param generation the generation id to stamp on the snapshot
     * @param cards the members in order; may be empty
     */
    PublishOutcome publish(VersionTicket ticket, String generation, List<AccountCard> cards);

    /**
     * {@link #allocateVersion} for many buckets in one round trip where the store allows (a pipeline;
     * on a cluster, one script per bucket's slot). Same semantics per bucket: a retired bucket maps to
     * empty and allocates nothing. Every bucket of {@code buckets} is a key of the answer.
     */
    default Map<Bucket, Optional<VersionTicket>> allocateVersions(Collection<Bucket> buckets) {
        Map<Bucket, Optional<VersionTicket>> out = new java.util.LinkedHashMap<>();
        for (Bucket b : buckets) {
            out.put(b, allocateVersion(b));
        }
        return out;
    }

    /**
     * {@link #publish} for many tickets in one round trip where the store allows. Same semantics per
     * ticket (each bucket activates, is superseded, fenced or retired on its own; no atomicity across
     * buckets); every ticket's bucket is a key of the answer. A store failure throws for the whole call:
     * some of the buckets may then be published, which is harmless (their versions were allocated).
     *
     * @param generation the generation id to stamp on every snapshot
     * @param contents per ticket, the members in order (may be empty); at most one ticket per bucket
     */
    default Map<Bucket, PublishOutcome> publishAll(String generation, Map<VersionTicket, List<AccountCard>> contents) {
        Map<Bucket, PublishOutcome> out = new java.util.LinkedHashMap<>();
        for (Map.Entry<VersionTicket, List<AccountCard>> e : contents.entrySet()) {
            out.put(e.getKey().bucket(), publish(e.getKey(), generation, e.getValue()));
        }
        return out;
    }

    /**
     * The buckets among {@code buckets} that have no active snapshot that can be read (a miss or a
     * corrupt value), checked in one round trip where the store allows and without transferring the
     * snapshots: how a full rebuild confirms that its writes are still there before declaring its
     * generation current.
     */
    default Set<Bucket> withoutActiveSnapshot(Collection<Bucket> buckets) {
        Set<Bucket> out = new java.util.LinkedHashSet<>();
        for (Bucket b : buckets) {
            if (!(readSnapshot(b) instanceof Lookup.Hit<Snapshot>)) {
                out.add(b);
            }
        }
        return out;
    }

    /**
     * Retires the bucket: removes its active snapshot (it stays readable by version for the grace
     * period), removes it from the registry, raises its fence so that every ticket allocated before
     * stays unpublishable, even after {@link #reopen}, and publishes a {@linkplain
     * Invalidation#retiredBucket retire notice} in the same atomic step, so near caches stop serving
     * the bucket at once. Idempotent: retiring a retired bucket changes nothing and notifies nobody.
     */
    void retire(Bucket bucket);

    /**
     * Reopens a retired bucket so that new tickets can be allocated; tickets from before the retire
     * stay fenced. The bucket reads as a miss until the next publish. Idempotent.
     */
    void reopen(Bucket bucket);

    /** Whether the bucket is retired. */
    boolean isRetired(Bucket bucket);

    // ---- registry ----------------------------------------------------------------------------

    /** Adds the bucket to the registry of known buckets (publish does this too). */
    void register(Bucket bucket);

    /**
     * The registered buckets. Entries that cannot be parsed are skipped and reported through the
     * implementation's log, never thrown.
     */
    Set<Bucket> buckets();

    // ---- account cards and last-used ---------------------------------------------------------

    /** Reads one account card. */
    Lookup<AccountCard> card(long accountId);

    /** Reads several cards; the map has an entry for every requested id, in the requested order. */
    Map<Long, Lookup<AccountCard>> cards(Collection<Long> accountIds);

    /** Writes (replaces) cards. Last-used values beside them are left alone. */
    void putCards(Collection<AccountCard> cards);

    /**
     * The ids of every stored card (so a full rebuild can delete the cards of accounts that no longer
     * exist). Not atomic with concurrent writes; a key that cannot be parsed is skipped and logged.
     */
    Set<Long> cardIds();

    /** Deletes cards and the last-used values beside them. Missing ids are ignored. */
    void deleteCards(Collection<Long> accountIds);

    /**
     * Moves last-used values forward: each account's value becomes the maximum of the stored one and
     * the given one, only for accounts whose card exists. Stored with millisecond precision.
     */
    void markUsed(Map<Long, Instant> lastUsed);

    /** The last-used values of the accounts that have one (millisecond precision). */
    Map<Long, Instant> lastUsed(Collection<Long> accountIds);

    // ---- projection state --------------------------------------------------------------------

    /** The outbox watermark, or a miss when none was ever stored (a fresh or flushed projection). */
    Lookup<Long> watermark();

    /**
     * Moves the watermark forward to {@code horizon} if {@code replayerLease} is the currently held
     * {@link #REPLAYER_LEASE} and the stored value is lower.
     *
     * @throws IllegalArgumentException when {@code horizon < 0} or the lease is not the replayer lease
     */
    WatermarkOutcome advanceWatermark(Lease replayerLease, long horizon);

    /** The stored generation; a miss means the projection must be fully rebuilt. */
    Lookup<Generation> generation();

    /** Stores the generation (after a full rebuild under it completed), stamped with the process now answering. */
    void putGeneration(Generation generation);

    /**
     * Stores the generation stamped with {@code origin}, the {@linkplain StoreOrigin#current() process
     * identity} read before the rebuild under it started: if the store changed while it ran, the stamp
     * names the old process and the next {@link #origin()} check reports the change. The default
     * ignores the origin (stores that do not track it).
     *
     * @param origin an identity from {@link #origin()}, or {@code null} to stamp the process now answering
     */
    default void putGeneration(Generation generation, @Nullable String origin) {
        putGeneration(generation);
    }

    /**
     * The process identity of the store answering now and the one stamped with the stored generation,
     * read in one atomic step (so a reconnect between two reads cannot mix two servers). Checked by the
     * replayer lease holder on every poll; cheap (one round trip). The default is {@link
     * StoreOrigin#UNTRACKED}.
     */
    default StoreOrigin origin() {
        return StoreOrigin.UNTRACKED;
    }

    // ---- serving digests ---------------------------------------------------------------------

    /**
     * Stores this instance's {@linkplain ServingDigest serving digest}, replacing its previous one;
     * it expires {@code ttl} after this call (store time), so the digest of an instance that died
     * vanishes. The default stores nothing (stores without shared state).
     */
    default void putServing(ServingDigest digest, Duration ttl) {}

    /**
     * The serving digests of every instance whose last one has not expired, in no order; a stored
     * value that cannot be parsed is skipped (and logged). The default is none.
     */
    default List<ServingDigest> servingDigests() {
        return List.of();
    }

    // ---- replay cursor -----------------------------------------------------------------------

    /**
     * Publishes the replayer's cursor so that instances without the lease (and the CLI) report backlog
     * and lag against what was actually applied. Written by the lease holder after a batch; not fenced
     * (a stale holder's last write is replaced by the next holder's first). The default stores
     * nothing.
     */
    default void putReplayCursor(CursorState cursor) {}

    /**
     * The cursor last published by a replayer; a miss when none was (or the store does not keep it),
     * corrupt when the stored value cannot be decoded.
     */
    default Lookup<CursorState> replayCursor() {
        return Lookup.miss();
    }

    // ---- leases ------------------------------------------------------------------------------

    /**
     * Acquires the lease {@code name} for {@code ttl} with a fresh random owner token, if nobody holds
     * it.
     *
     * @return the held lease, or empty when someone else holds it
     * @throws IllegalArgumentException when {@code ttl} is not positive or the name is malformed
     */
    Optional<Lease> tryAcquireLease(String name, Duration ttl);

    /**
     * Extends the lease to {@code ttl} from now if it is still held by this token.
     *
     * @return whether the lease was still held (and is now extended)
     */
    boolean renewLease(Lease lease, Duration ttl);

    /**
     * Releases the lease if it is still held by this token (compare-and-delete).
     *
     * @return whether it was held and is now released; {@code false} means it was lost earlier
     */
    boolean releaseLease(Lease lease);

    // ---- invalidation ------------------------------------------------------------------------

    /**
     * Subscribes to invalidations published after each activation and each retire (by any client of
     * the same projection). The listener runs on an implementation thread and must not block; exceptions it
     * throws are logged and dropped.
     */
    Subscription subscribe(Consumer<Invalidation> listener);

    /** Releases the resources this instance owns. */
    @Override
    void close();
}
