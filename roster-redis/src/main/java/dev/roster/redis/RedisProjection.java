package dev.roster.redis;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.outbox.CursorState;
import dev.roster.core.projection.CorruptValueException;
import dev.roster.core.projection.Generation;
import dev.roster.core.projection.Invalidation;
import dev.roster.core.projection.Lease;
import dev.roster.core.projection.Lookup;
import dev.roster.core.projection.Projection;
import dev.roster.core.projection.ProjectionUnavailableException;
import dev.roster.core.projection.PublishOutcome;
import dev.roster.core.projection.ServingDigest;
import dev.roster.core.projection.Snapshot;
import dev.roster.core.projection.StoreOrigin;
import dev.roster.core.projection.Subscription;
import dev.roster.core.projection.VersionTicket;
import dev.roster.core.projection.WatermarkOutcome;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Projection} on Redis (standalone, Sentinel or Cluster) through Lettuce. Key layout in
 * {@link RedisKeys}, value formats in {@link ProjectionCodec}. Thread-safe; many projections (with
 * different key prefixes) may share one {@link RedisConnector}.
 *
 * <p>Implementation notes. Every multi-key script touches keys of one hash tag (one slot): snapshot
 * activation, retire and allocation touch one bucket's keys, last-used touches account keys grouped
 * by slot, and the watermark script touches the {@code {state}} keys. The two steps that cross slots
 * are the registry updates after an activation or a retire; the registry is advisory (rebuilds read
 * the database for the set of buckets too), and a retired bucket is also recognised by its tombstone.
 * Reads decode outside Redis and report undecodable values as {@link Lookup.Corrupt} with the key.
 */
public final class RedisProjection implements Projection {
    private static final Logger LOG = LoggerFactory.getLogger(RedisProjection.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int BATCH = 256;
    // Batch forms: script calls in flight at once, and encoded snapshot bytes in flight at once (a
    // platform-wide bucket can be megabytes). Well under the default request queue of 10,000.
    private static final int PIPELINE = 256;
    private static final long PIPELINE_BYTES = 8L << 20;
    /** Pipelines of at least this many commands go on the connector's second connection (decision E17). */
    private static final int BULK_PIPELINE = 32;

    private static final String GENERATION_FORMAT = "1";
    // The second word of a retire notice on the channel: "<bucket> retired". Generation ids cannot
    // collide with it, since an activation notice always has three words.
    private static final String RETIRED_MESSAGE = "retired";

    private final RedisConnector connector;
    private final boolean ownsConnector;
    private final RedisKeys keys;
    private final Duration grace;
    private final RedisClusterCommands<byte[], byte[]> redis;
    private final RedisCalls calls;
    private static final byte[] NONE = new byte[0];
    /** A part value the publish script takes as "stored before under this id" (see publishCall). */
    private static final byte[] NO_VALUE = new byte[0];
    /** The publish script's answer when a part sent without its value is not stored. */
    private static final String MISSING = "MISSING";
    /** Every this many versions a publish sends every part (decision NC7). */
    static final long FULL_WRITE_EVERY = 16;
    /** The part ids of the snapshot this process last activated, per bucket (decision NC7). */
    private final Map<Bucket, Set<String>> activatedParts = new ConcurrentHashMap<>();
    /** The parts last encoded per bucket, reused by later publishes whose cards did not change (E16). */
    private final ProjectionCodec.PartsMemo partsMemo = new ProjectionCodec.PartsMemo();

    private static final byte[] ALL_PARTS = {'1'};
    private static final byte[] NO_PARTS = {'0'};
    private final Map<Bucket, byte[]> snapshotKeys = new ConcurrentHashMap<>();
    private final Map<Bucket, HeldLayout> layouts = new ConcurrentHashMap<>();
    private final LongAdder snapshotBytesRead = new LongAdder();
    private final List<Consumer<Invalidation>> listeners = new CopyOnWriteArrayList<>();
    private final Object pubSubLock = new Object();
    private @Nullable StatefulRedisPubSubConnection<String, String> pubSub;
    private volatile boolean closed;

    private RedisProjection(RedisConnector connector, boolean owns, String keyPrefix, Duration grace) {
        this.connector = Objects.requireNonNull(connector, "connector");
        this.ownsConnector = owns;
        this.keys = new RedisKeys(keyPrefix);
        Objects.requireNonNull(grace, "grace");
        if (grace.isNegative() || grace.isZero()) {
            throw new IllegalArgumentException("snapshot grace must be positive, got " + grace);
        }
        this.grace = grace;
        this.redis = connector.sync();
        this.calls = new RedisCalls(
                connector,
                (op, key, reply, e) -> new CorruptValueException(key, "holds another Redis type (" + reply + ")", e));
    }

    /**
     * A projection over a connector the caller owns (and closes after this).
     *
     * @param connector the shared connection
     * @param keyPrefix see {@link RedisKeys#RedisKeys(String)}
     * @param grace how long superseded snapshot versions stay readable
     */
    public static RedisProjection over(RedisConnector connector, String keyPrefix, Duration grace) {
        return new RedisProjection(connector, false, keyPrefix, grace);
    }

    /** A projection that owns its own connection, closed with it. */
    public static RedisProjection connect(RedisConnectionOptions options, String keyPrefix, Duration grace) {
        RedisConnector c = RedisConnector.connect(options);
        try {
            return new RedisProjection(c, true, keyPrefix, grace);
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * A projection that owns its own connection (closed with it), using shared client resources that
     * the caller shuts down.
     */
    public static RedisProjection connect(
            RedisConnectionOptions options, ClientResources resources, String keyPrefix, Duration grace) {
        RedisConnector c = RedisConnector.connect(options, resources);
        try {
            return new RedisProjection(c, true, keyPrefix, grace);
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** The key layout (for inspection and tests). */
    public RedisKeys keys() {
        return keys;
    }

    // ---- snapshots -------------------------------------------------------------------------

    @Override
    public Lookup<Snapshot> readSnapshot(Bucket bucket) {
        Objects.requireNonNull(bucket, "bucket");
        return readAt(bucket, snapshotKey(bucket), null, null, false);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Decision NC3: with a {@code held} snapshot whose layout this projection remembers, one script
     * compares the stored value's identity with it (a few bytes answer "unchanged"); a changed value
     * comes back alone, and the parts it names that {@code held} lacks follow in one {@code MGET}.
     * Parts are immutable under their content hash and checked against it, so the two steps cannot mix
     * versions; a part gone in between (expired after the grace period) makes one full, atomic re-read.
     * The layout of the snapshot returned is remembered per bucket, for the next refresh.
     */
    @Override
    public Lookup<Snapshot> refreshSnapshot(Bucket bucket, @Nullable Snapshot held) {
        Objects.requireNonNull(bucket, "bucket");
        HeldLayout layout = layouts.get(bucket);
        if (layout != null && !layout.describes(held)) {
            layout = null;
        }
        return readAt(bucket, snapshotKey(bucket), layout == null ? null : held, layout, true);
    }

    @Override
    public Lookup<Snapshot> readSnapshot(Bucket bucket, long version) {
        Objects.requireNonNull(bucket, "bucket");
        Lookup<Snapshot> active = readSnapshot(bucket);
        if (active instanceof Lookup.Hit<Snapshot> h && h.found().version() == version) {
            return active;
        }
        Lookup<Snapshot> old = readAt(bucket, bytes(keys.snapshot(bucket, version)), null, null, false);
        if (old instanceof Lookup.Hit<Snapshot> h && h.found().version() != version) {
            return corrupt(new CorruptValueException(
                    keys.snapshot(bucket, version), "holds version " + h.found().version()));
        }
        return old;
    }

    /**
     * The bytes of snapshot values and parts the reads of this projection received (not counting
     * protocol framing): what a near cache costs Redis, for metrics and tests.
     */
    public long snapshotBytesRead() {
        return snapshotBytesRead.sum();
    }

    private byte[] snapshotKey(Bucket bucket) {
        return snapshotKeys.computeIfAbsent(bucket, b -> bytes(keys.snapshot(b)));
    }

    /**
     * Reads the snapshot under {@code key}. With a {@code layout} (of {@code held}) only what changed is
     * transferred; without, everything is, in one atomic script. With {@code remember} the layout of
     * what is returned is kept for the bucket's next refresh (a plain read must not replace the layout a
     * near cache relies on).
     */
    private Lookup<Snapshot> readAt(
            Bucket bucket, byte[] key, @Nullable Snapshot held, @Nullable HeldLayout layout, boolean remember) {
        List<Object> r;
        try {
            r = eval(
                    LuaScript.READ_SNAPSHOT,
                    ScriptOutputType.MULTI,
                    new byte[][] {key},
                    layout == null ? NONE : layout.identity(),
                    bytes(keys.partPrefix(bucket)),
                    layout == null ? ALL_PARTS : NO_PARTS);
        } catch (CorruptValueException e) {
            return corrupt(e);
        }
        long tag = (Long) r.get(0);
        if (tag == 0) {
            return Lookup.miss();
        }
        if (tag == 1) {
            // The script answers "unchanged" only for a held snapshot it was given.
            return Lookup.hit(Objects.requireNonNull(held, "held"));
        }
        if (tag == 3) {
            return corrupt(new CorruptValueException(str(key), "holds another Redis type (" + text(r.get(1)) + ")"));
        }
        countRead(r, 1);
        try {
            Snapshot s = assemble(bucket, key, r, held, layout);
            if (s == null) {
                // A part the changed value names was gone by the time it was fetched: read it all at once.
                return readAt(bucket, key, null, null, remember);
            }
            if (remember) {
                layouts.put(bucket, layoutOf(s, r));
            }
            return Lookup.hit(s);
        } catch (CorruptValueException e) {
            return corrupt(e);
        }
    }

    private void countRead(List<?> values, int from) {
        long received = 0;
        for (int i = from; i < values.size(); i++) {
            if (values.get(i) instanceof byte[] b) {
                received += b.length;
            }
        }
        snapshotBytesRead.add(received);
    }

    private static HeldLayout layoutOf(Snapshot s, List<Object> reply) {
        // The head was decoded once in assemble; decoding the (small) value again keeps assemble simple.
        ProjectionCodec.Head head = ProjectionCodec.decodeHead("", (byte[]) reply.get(1), s.bucket());
        return head.inline() != null
                ? HeldLayout.inline(s, head.identity())
                : HeldLayout.parted(s, head.identity(), head.partIds(), head.partCounts());
    }

    /**
     * The snapshot the reply's value describes, its parts taken from the reply, from {@code held} or
     * fetched; {@code null} when a part to fetch is gone (the caller then reads everything atomically).
     */
    private @Nullable Snapshot assemble(
            Bucket bucket, byte[] key, List<Object> reply, @Nullable Snapshot held, @Nullable HeldLayout layout) {
        String k = str(key);
        ProjectionCodec.Head head = ProjectionCodec.decodeHead(k, (byte[]) reply.get(1), bucket);
        if (head.inline() != null) {
            return snapshot(k, bucket, head, head.inline());
        }
        Map<String, byte[]> sent = new HashMap<>();
        for (int i = 2; i + 1 < reply.size(); i += 2) {
            sent.put(str((byte[]) reply.get(i)), (byte[]) reply.get(i + 1));
        }
        boolean allSent = layout == null;
        List<String> fetch = new ArrayList<>();
        for (int i = 0; i < head.partIds().size(); i++) {
            String id = head.partIds().get(i);
            int[] range = layout == null ? null : layout.range(id);
            if (!allSent && (range == null || range[1] != head.partCounts()[i]) && !sent.containsKey(id)) {
                fetch.add(id);
            }
        }
        if (!fetch.isEmpty()) {
            byte[][] ks = fetch.stream().map(id -> bytes(keys.part(bucket, id))).toArray(byte[][]::new);
            List<KeyValue<byte[], byte[]>> values = call("MGET", ks[0], () -> redis.mget(ks));
            for (int i = 0; i < fetch.size(); i++) {
                KeyValue<byte[], byte[]> kv = values.get(i);
                if (!kv.hasValue()) {
                    return null;
                }
                sent.put(fetch.get(i), kv.getValue());
            }
            countRead(values.stream().map(kv -> kv.getValueOrElse(null)).toList(), 0);
        }
        List<AccountCard> cards = new ArrayList<>(head.count());
        for (int i = 0; i < head.partIds().size(); i++) {
            String id = head.partIds().get(i);
            int count = head.partCounts()[i];
            if (sent.containsKey(id)) {
                String partKey = keys.part(bucket, id);
                byte[] part = sent.get(id);
                if (part == null) {
                    throw new CorruptValueException(partKey, "is missing, and the index " + k + " names it");
                }
                cards.addAll(ProjectionCodec.decodePart(partKey, part, id, count));
            } else {
                int[] range = layout == null ? null : layout.range(id);
                if (range == null) {
                    throw new CorruptValueException(k, "names part " + id + ", which was neither sent nor held");
                }
                // A range comes from the layout, which describes the held snapshot.
                cards.addAll(Objects.requireNonNull(held, "held").cards().subList(range[0], range[0] + count));
            }
        }
        return snapshot(k, bucket, head, cards);
    }

    private static Snapshot snapshot(String key, Bucket bucket, ProjectionCodec.Head head, List<AccountCard> cards) {
        try {
            return new Snapshot(bucket, head.generation(), head.version(), cards);
        } catch (RuntimeException e) {
            throw new CorruptValueException(key, "invalid content: " + e.getMessage(), e);
        }
    }

    @Override
    public Optional<VersionTicket> allocateVersion(Bucket bucket) {
        ScriptCall c = allocateCall(Objects.requireNonNull(bucket, "bucket"));
        List<Object> r = eval(LuaScript.ALLOCATE, ScriptOutputType.MULTI, c.keys(), c.args());
        return ticket(bucket, r);
    }

    private ScriptCall allocateCall(Bucket bucket) {
        // The active version too: a counter that was lost (deleted, evicted) restarts above it.
        return new ScriptCall(
                keys(keys.retired(bucket), keys.counter(bucket), keys.epoch(bucket), keys.activeVersion(bucket)));
    }

    private static Optional<VersionTicket> ticket(Bucket bucket, List<Object> allocated) {
        long version = (Long) allocated.get(0);
        if (version < 0) {
            return Optional.empty();
        }
        return Optional.of(new VersionTicket(bucket, version, (Long) allocated.get(1)));
    }

    @Override
    public PublishOutcome publish(VersionTicket ticket, String generation, List<AccountCard> cards) {
        Objects.requireNonNull(ticket, "ticket");
        Snapshot s = new Snapshot(ticket.bucket(), generation, ticket.version(), cards);
        ProjectionCodec.Encoder encoder = new ProjectionCodec.Encoder(partsMemo);
        ScriptCall c = publishCall(s, ticket, encoder, true);
        String result = str(eval(LuaScript.PUBLISH, ScriptOutputType.VALUE, c.keys(), c.args()));
        if (MISSING.equals(result)) {
            c = publishCall(s, ticket, encoder, false);
            result = str(eval(LuaScript.PUBLISH, ScriptOutputType.VALUE, c.keys(), c.args()));
        }
        PublishOutcome outcome = PublishOutcome.valueOf(result);
        if (outcome == PublishOutcome.ACTIVATED) {
            activated(ticket.bucket(), c);
            register(ticket.bucket());
        }
        return outcome;
    }

    /**
     * A publish call; with {@code reuseParts}, the parts this process activated under the same id for
     * the bucket's last snapshot are sent without their value (decision NC7): the script checks they are
     * still stored and answers {@code MISSING} otherwise. A one-card change of a 25,000-card bucket then
     * sends its index and one or two parts instead of every part.
     */
    private ScriptCall publishCall(
            Snapshot s, VersionTicket ticket, ProjectionCodec.Encoder encoder, boolean reuseParts) {
        Bucket b = ticket.bucket();
        String message = b.text() + " " + s.generation() + " " + ticket.version();
        ProjectionCodec.Stored stored = ProjectionCodec.encodeStored(s, encoder);
        // Every FULL_WRITE_EVERY-th version sends every part anyway, so a part damaged in place (not
        // deleted: that the script notices) is written again within that many versions.
        Set<String> stored0 = reuseParts && ticket.version() % FULL_WRITE_EVERY != 0 ? activatedParts.get(b) : null;
        long sent = stored.value().length;
        byte[][] args = new byte[7 + 2 * stored.parts().size()][];
        args[0] = bytes(Long.toString(ticket.version()));
        args[1] = bytes(Long.toString(ticket.epoch()));
        args[2] = stored.value();
        args[3] = bytes(Long.toString(grace.toMillis()));
        args[4] = bytes(keys.channel());
        args[5] = bytes(message);
        args[6] = bytes(keys.partPrefix(b));
        for (int i = 0; i < stored.parts().size(); i++) {
            String id = stored.partIds().get(i);
            args[7 + 2 * i] = bytes(id);
            if (stored0 != null && stored0.contains(id)) {
                args[8 + 2 * i] = NO_VALUE;
            } else {
                args[8 + 2 * i] = stored.parts().get(i);
                sent += stored.parts().get(i).length;
            }
        }
        return new ScriptCall(
                keys(keys.snapshot(b), keys.activeVersion(b), keys.epoch(b), keys.retired(b)),
                sent,
                stored.partIds(),
                args);
    }

    /** After {@code call} for {@code bucket} activated: its parts are what Redis holds for the bucket. */
    private void activated(Bucket bucket, ScriptCall call) {
        if (call.partIds().isEmpty()) {
            activatedParts.remove(bucket);
        } else {
            activatedParts.put(bucket, Set.copyOf(call.partIds()));
        }
    }

    // ---- batch forms -----------------------------------------------------------------------
    //
    // Each bucket runs the same script as the single form, in its own slot; the scripts of a chunk are
    // issued back to back on the shared connection (Lettuce writes them without waiting for replies,
    // which is a pipeline) and then awaited. Chunks bound the commands in flight and the encoded bytes
    // held at once, so a full rebuild of every bucket stays within the request queue, the heap and the
    // command timeout.

    @Override
    public Map<Bucket, Optional<VersionTicket>> allocateVersions(Collection<Bucket> buckets) {
        List<Bucket> list = distinct(buckets);
        Map<Bucket, Optional<VersionTicket>> out = new LinkedHashMap<>();
        for (int from = 0; from < list.size(); from += PIPELINE) {
            List<Bucket> chunk = list.subList(from, Math.min(list.size(), from + PIPELINE));
            List<List<Object>> rs = evalAll(
                    LuaScript.ALLOCATE,
                    ScriptOutputType.MULTI,
                    chunk.stream().map(this::allocateCall).toList());
            for (int i = 0; i < chunk.size(); i++) {
                out.put(chunk.get(i), ticket(chunk.get(i), rs.get(i)));
            }
        }
        return out;
    }

    @Override
    public Map<Bucket, PublishOutcome> publishAll(String generation, Map<VersionTicket, List<AccountCard>> contents) {
        Objects.requireNonNull(contents, "contents");
        // Every argument is checked before the first write (the generation by the first entry's
        // snapshot, since it is the same for all); values are encoded chunk by chunk.
        Set<Bucket> seen = new HashSet<>();
        for (Map.Entry<VersionTicket, List<AccountCard>> e : contents.entrySet()) {
            VersionTicket t = Objects.requireNonNull(e.getKey(), "ticket in contents");
            if (!seen.add(t.bucket())) {
                throw new IllegalArgumentException("publishAll takes at most one ticket per bucket, got two for "
                        + t.bucket().text());
            }
            List<AccountCard> cards = Objects.requireNonNull(
                    e.getValue(), "cards of " + t.bucket().text());
            for (AccountCard c : cards) {
                if (c == null) {
                    // Not Objects.requireNonNull(c, message): that would build the message per card.
                    throw new NullPointerException("a card of " + t.bucket().text());
                }
            }
        }
        Map<Bucket, PublishOutcome> out = new LinkedHashMap<>();
        List<VersionTicket> chunk = new ArrayList<>();
        List<ScriptCall> calls = new ArrayList<>();
        long chunkBytes = 0;
        ProjectionCodec.Encoder encoder = new ProjectionCodec.Encoder(partsMemo);
        for (Map.Entry<VersionTicket, List<AccountCard>> e : contents.entrySet()) {
            VersionTicket t = e.getKey();
            ScriptCall c =
                    publishCall(new Snapshot(t.bucket(), generation, t.version(), e.getValue()), t, encoder, true);
            chunk.add(t);
            calls.add(c);
            chunkBytes += c.valueBytes();
            if (calls.size() >= PIPELINE || chunkBytes >= PIPELINE_BYTES) {
                publishChunk(chunk, calls, out, contents, generation, encoder);
                chunk.clear();
                calls.clear();
                chunkBytes = 0;
            }
        }
        if (!calls.isEmpty()) {
            publishChunk(chunk, calls, out, contents, generation, encoder);
        }
        return out;
    }

    private void publishChunk(
            List<VersionTicket> chunk,
            List<ScriptCall> calls,
            Map<Bucket, PublishOutcome> out,
            Map<VersionTicket, List<AccountCard>> contents,
            String generation,
            ProjectionCodec.Encoder encoder) {
        List<byte[]> rs = new ArrayList<>(evalAll(LuaScript.PUBLISH, ScriptOutputType.VALUE, calls));
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < chunk.size(); i++) {
            if (MISSING.equals(str(rs.get(i)))) {
                missing.add(i);
            }
        }
        if (!missing.isEmpty()) {
            // A part this process stored before is gone (expired, flushed, deleted): every part again.
            List<ScriptCall> again = new ArrayList<>(missing.size());
            for (int i : missing) {
                VersionTicket t = chunk.get(i);
                ScriptCall full = publishCall(
                        new Snapshot(
                                t.bucket(), generation, t.version(), Objects.requireNonNull(contents.get(t), "cards")),
                        t,
                        encoder,
                        false);
                calls.set(i, full);
                again.add(full);
            }
            List<byte[]> rs2 = evalAll(LuaScript.PUBLISH, ScriptOutputType.VALUE, again);
            for (int k = 0; k < missing.size(); k++) {
                rs.set(missing.get(k), rs2.get(k));
            }
        }
        List<byte[]> activated = new ArrayList<>();
        for (int i = 0; i < chunk.size(); i++) {
            PublishOutcome o = PublishOutcome.valueOf(str(rs.get(i)));
            out.put(chunk.get(i).bucket(), o);
            if (o == PublishOutcome.ACTIVATED) {
                activated(chunk.get(i).bucket(), calls.get(i));
                activated.add(bytes(chunk.get(i).bucket().text()));
            }
        }
        if (!activated.isEmpty()) {
            // The registry lives in the {state} slot, so it cannot join a bucket's script: one SADD per
            // chunk, after the activations, as the single form registers after its script.
            byte[] registry = bytes(keys.registry());
            byte[][] members = activated.toArray(byte[][]::new);
            call("SADD", registry, () -> redis.sadd(registry, members));
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Reads only the first bytes of each active snapshot value ({@code GETRANGE}) and checks them
     * with {@link ProjectionCodec#isSnapshotOf}: a missing key, a value of another Redis type, of
     * another format version or of another bucket counts as without. The cards (or parts) behind a
     * good header are not checked (that would transfer them).
     */
    @Override
    public Set<Bucket> withoutActiveSnapshot(Collection<Bucket> buckets) {
        List<Bucket> list = distinct(buckets);
        Set<Bucket> out = new LinkedHashSet<>();
        for (int from = 0; from < list.size(); from += PIPELINE) {
            List<Bucket> chunk = list.subList(from, Math.min(list.size(), from + PIPELINE));
            List<byte[]> ks = new ArrayList<>(chunk.size());
            List<RedisFuture<byte[]>> futures = new ArrayList<>(chunk.size());
            RedisClusterAsyncCommands<byte[], byte[]> pipeline = pipeline(chunk.size());
            for (Bucket b : chunk) {
                byte[] k = snapshotKeys.computeIfAbsent(b, x -> bytes(keys.snapshot(x)));
                int length = ProjectionCodec.snapshotHeaderLength(b);
                ks.add(k);
                futures.add(issue("GETRANGE", k, () -> pipeline.getrange(k, 0, length - 1)));
            }
            for (int i = 0; i < chunk.size(); i++) {
                byte[] prefix;
                try {
                    prefix = await("GETRANGE", ks.get(i), futures.get(i));
                } catch (CorruptValueException e) {
                    LOG.warn("{}", e.getMessage());
                    out.add(chunk.get(i));
                    continue;
                }
                if (!ProjectionCodec.isSnapshotOf(chunk.get(i), prefix)) {
                    out.add(chunk.get(i));
                }
            }
        }
        return out;
    }

    private static List<Bucket> distinct(Collection<Bucket> buckets) {
        Objects.requireNonNull(buckets, "buckets");
        Set<Bucket> out = new LinkedHashSet<>();
        for (Bucket b : buckets) {
            out.add(Objects.requireNonNull(b, "bucket in buckets"));
        }
        return List.copyOf(out);
    }

    @Override
    public void retire(Bucket bucket) {
        Objects.requireNonNull(bucket, "bucket");
        partsMemo.forget(bucket);
        eval(
                LuaScript.RETIRE,
                ScriptOutputType.INTEGER,
                keys(keys.retired(bucket), keys.epoch(bucket), keys.snapshot(bucket), keys.activeVersion(bucket)),
                bytes(Long.toString(grace.toMillis())),
                bytes(keys.channel()),
                bytes(bucket.text() + " " + RETIRED_MESSAGE),
                bytes(keys.partPrefix(bucket)));
        byte[] registry = bytes(keys.registry());
        call("SREM", registry, () -> redis.srem(registry, bytes(bucket.text())));
    }

    @Override
    public void reopen(Bucket bucket) {
        byte[] k = bytes(keys.retired(Objects.requireNonNull(bucket, "bucket")));
        call("DEL", k, () -> redis.del(k));
    }

    @Override
    public boolean isRetired(Bucket bucket) {
        byte[] k = bytes(keys.retired(Objects.requireNonNull(bucket, "bucket")));
        return call("EXISTS", k, () -> redis.exists(k)) > 0;
    }

    // ---- registry --------------------------------------------------------------------------

    @Override
    public void register(Bucket bucket) {
        byte[] registry = bytes(keys.registry());
        byte[] member = bytes(Objects.requireNonNull(bucket, "bucket").text());
        call("SADD", registry, () -> redis.sadd(registry, member));
    }

    @Override
    public Set<Bucket> buckets() {
        byte[] registry = bytes(keys.registry());
        Set<byte[]> members;
        try {
            members = call("SMEMBERS", registry, () -> redis.smembers(registry));
        } catch (CorruptValueException e) {
            LOG.warn("{}", e.getMessage());
            return Set.of();
        }
        Set<Bucket> out = new LinkedHashSet<>();
        for (byte[] m : members) {
            try {
                out.add(Bucket.parse(str(m)));
            } catch (IllegalArgumentException e) {
                LOG.warn("skipping registry entry of {}: {}", keys.registry(), e.getMessage());
            }
        }
        return Set.copyOf(out);
    }

    // ---- cards and last-used ---------------------------------------------------------------

    @Override
    public Lookup<AccountCard> card(long accountId) {
        byte[] k = bytes(keys.card(accountId));
        byte[] v;
        try {
            v = call("GET", k, () -> redis.get(k));
        } catch (CorruptValueException e) {
            return corrupt(e);
        }
        return decodeCard(accountId, k, v);
    }

    @Override
    public Map<Long, Lookup<AccountCard>> cards(Collection<Long> accountIds) {
        List<Long> ids = List.copyOf(accountIds);
        Map<Long, Lookup<AccountCard>> out = new LinkedHashMap<>();
        for (int from = 0; from < ids.size(); from += BATCH) {
            List<Long> chunk = ids.subList(from, Math.min(ids.size(), from + BATCH));
            byte[][] ks = chunk.stream().map(id -> bytes(keys.card(id))).toArray(byte[][]::new);
            // MGET answers nil for keys of another type, so no WRONGTYPE can arise here.
            List<KeyValue<byte[], byte[]>> values = call("MGET", ks[0], () -> redis.mget(ks));
            for (int i = 0; i < chunk.size(); i++) {
                KeyValue<byte[], byte[]> kv = values.get(i);
                out.put(chunk.get(i), decodeCard(chunk.get(i), ks[i], kv.hasValue() ? kv.getValue() : null));
            }
        }
        return out;
    }

    private Lookup<AccountCard> decodeCard(long id, byte[] key, byte @Nullable [] v) {
        if (v == null) {
            return Lookup.miss();
        }
        try {
            return Lookup.hit(ProjectionCodec.decodeCard(str(key), v, id));
        } catch (CorruptValueException e) {
            return corrupt(e);
        }
    }

    @Override
    public void putCards(Collection<AccountCard> cards) {
        List<AccountCard> list = List.copyOf(cards);
        for (int from = 0; from < list.size(); from += BATCH) {
            // Distinct card keys, never looked up: the map only keeps MSET's pairs in order.
            @SuppressWarnings("UndefinedEquals")
            Map<byte[], byte[]> kv = new LinkedHashMap<>();
            for (AccountCard c : list.subList(from, Math.min(list.size(), from + BATCH))) {
                kv.put(bytes(keys.card(c.id())), ProjectionCodec.encodeCard(c));
            }
            call("MSET", kv.keySet().iterator().next(), () -> redis.mset(kv));
        }
    }

    @Override
    public Set<Long> cardIds() {
        // SCAN, not a card index: an index would be one more write on every card change and could
        // itself drift; this runs once per full rebuild. On Cluster the client walks every master.
        String prefix = keys.prefix() + "{";
        String suffix = "}:card";
        byte[] pattern = bytes(prefix + "*" + suffix);
        ScanArgs args = ScanArgs.Builder.matches(prefix + "*" + suffix).limit(1000);
        Set<Long> out = new HashSet<>();
        KeyScanCursor<byte[]> cursor = call("SCAN", pattern, () -> redis.scan(args));
        while (true) {
            for (byte[] k : cursor.getKeys()) {
                String key = str(k);
                String id = key.substring(prefix.length(), key.length() - suffix.length());
                try {
                    out.add(Long.parseLong(id));
                } catch (NumberFormatException e) {
                    LOG.warn("skipping card key with a malformed account id: {}", key);
                }
            }
            if (cursor.isFinished()) {
                return out;
            }
            KeyScanCursor<byte[]> at = cursor;
            cursor = call("SCAN", pattern, () -> redis.scan(at, args));
        }
    }

    @Override
    public void deleteCards(Collection<Long> accountIds) {
        List<Long> ids = List.copyOf(accountIds);
        for (int from = 0; from < ids.size(); from += BATCH) {
            List<byte[]> ks = new ArrayList<>();
            for (Long id : ids.subList(from, Math.min(ids.size(), from + BATCH))) {
                ks.add(bytes(keys.card(id)));
                ks.add(bytes(keys.lastUsed(id)));
            }
            byte[][] arr = ks.toArray(byte[][]::new);
            call("DEL", arr[0], () -> redis.del(arr));
        }
    }

    @Override
    public void markUsed(Map<Long, Instant> lastUsed) {
        if (lastUsed.isEmpty()) {
            return;
        }
        // One script per slot: on Cluster every account is its own tag, so group by slot; standalone
        // has one group. Groups run pipelined and are awaited together.
        Map<Integer, List<Map.Entry<Long, Instant>>> groups = new TreeMap<>();
        for (Map.Entry<Long, Instant> e : lastUsed.entrySet()) {
            Objects.requireNonNull(e.getValue(), "last-used instant of account " + e.getKey());
            int slot = connector.isCluster() ? SlotHash.getSlot(keys.card(e.getKey())) : 0;
            groups.computeIfAbsent(slot, s -> new ArrayList<>()).add(e);
        }
        List<byte[][]> keyBatches = new ArrayList<>();
        List<byte[][]> argBatches = new ArrayList<>();
        for (List<Map.Entry<Long, Instant>> group : groups.values()) {
            for (int from = 0; from < group.size(); from += BATCH) {
                List<Map.Entry<Long, Instant>> chunk = group.subList(from, Math.min(group.size(), from + BATCH));
                byte[][] ks = new byte[chunk.size() * 2][];
                byte[][] as = new byte[chunk.size()][];
                for (int i = 0; i < chunk.size(); i++) {
                    ks[2 * i] = bytes(keys.card(chunk.get(i).getKey()));
                    ks[2 * i + 1] = bytes(keys.lastUsed(chunk.get(i).getKey()));
                    as[i] = bytes(Long.toString(chunk.get(i).getValue().toEpochMilli()));
                }
                keyBatches.add(ks);
                argBatches.add(as);
            }
        }
        List<RedisFuture<Long>> futures = new ArrayList<>();
        for (int i = 0; i < keyBatches.size(); i++) {
            futures.add(connector
                    .async()
                    .evalsha(
                            LuaScript.MARK_USED.sha(), ScriptOutputType.INTEGER, keyBatches.get(i), argBatches.get(i)));
        }
        for (int i = 0; i < futures.size(); i++) {
            try {
                await("EVALSHA markUsed", keyBatches.get(i)[0], futures.get(i));
            } catch (RedisCalls.NoScript e) {
                eval(LuaScript.MARK_USED, ScriptOutputType.INTEGER, keyBatches.get(i), argBatches.get(i));
            }
        }
    }

    @Override
    public Map<Long, Instant> lastUsed(Collection<Long> accountIds) {
        List<Long> ids = List.copyOf(accountIds);
        Map<Long, Instant> out = new LinkedHashMap<>();
        for (int from = 0; from < ids.size(); from += BATCH) {
            List<Long> chunk = ids.subList(from, Math.min(ids.size(), from + BATCH));
            byte[][] ks = chunk.stream().map(id -> bytes(keys.lastUsed(id))).toArray(byte[][]::new);
            List<KeyValue<byte[], byte[]>> values = call("MGET", ks[0], () -> redis.mget(ks));
            for (int i = 0; i < chunk.size(); i++) {
                KeyValue<byte[], byte[]> kv = values.get(i);
                if (kv.hasValue()) {
                    try {
                        out.put(chunk.get(i), Instant.ofEpochMilli(Long.parseLong(str(kv.getValue()))));
                    } catch (NumberFormatException e) {
                        // Not worth failing a read for: the next markUsed cannot fix it either, so report.
                        LOG.warn("{}", new CorruptValueException(str(ks[i]), "not a millisecond count").getMessage());
                    }
                }
            }
        }
        return out;
    }

    // ---- projection state ------------------------------------------------------------------

    @Override
    public void putReplayCursor(CursorState cursor) {
        Objects.requireNonNull(cursor, "cursor");
        byte[] k = bytes(keys.replayCursor());
        byte[] v = bytes(ReplayCursorCodec.encode(cursor));
        call("SET", k, () -> redis.set(k, v));
    }

    @Override
    public Lookup<CursorState> replayCursor() {
        return readText(keys.replayCursor(), s -> {
            try {
                return ReplayCursorCodec.decode(s);
            } catch (IllegalArgumentException e) {
                throw new CorruptValueException(
                        keys.replayCursor(), "not a replay cursor (" + e.getMessage() + "): '" + abbreviate(s) + "'");
            }
        });
    }

    @Override
    public Lookup<Long> watermark() {
        return readText(keys.watermark(), s -> {
            long w;
            try {
                w = Long.parseLong(s);
            } catch (NumberFormatException e) {
                throw new CorruptValueException(keys.watermark(), "not a decimal number: '" + abbreviate(s) + "'");
            }
            if (w < 0) {
                throw new CorruptValueException(keys.watermark(), "negative watermark " + w);
            }
            return w;
        });
    }

    @Override
    public WatermarkOutcome advanceWatermark(Lease replayerLease, long horizon) {
        Objects.requireNonNull(replayerLease, "replayerLease");
        if (!REPLAYER_LEASE.equals(replayerLease.name())) {
            throw new IllegalArgumentException("the watermark is fenced by the '" + REPLAYER_LEASE
                    + "' lease, got lease '" + replayerLease.name() + "'");
        }
        if (horizon < 0) {
            throw new IllegalArgumentException("watermark must be >= 0, got " + horizon);
        }
        byte[] r = eval(
                LuaScript.ADVANCE_WATERMARK,
                ScriptOutputType.VALUE,
                keys(keys.lease(REPLAYER_LEASE), keys.watermark()),
                bytes(replayerLease.token()),
                bytes(Long.toString(horizon)));
        return WatermarkOutcome.valueOf(str(r));
    }

    @Override
    public Lookup<Generation> generation() {
        return readText(keys.generation(), s -> {
            String[] parts = s.split("\\|", -1);
            if (parts.length != 3 || !GENERATION_FORMAT.equals(parts[0])) {
                throw new CorruptValueException(
                        keys.generation(),
                        parts.length == 3
                                ? "format version " + parts[0] + ", this reader understands " + GENERATION_FORMAT
                                : "not a generation value");
            }
            try {
                return new Generation(parts[1], parts[2]);
            } catch (IllegalArgumentException e) {
                throw new CorruptValueException(keys.generation(), e.getMessage(), e);
            }
        });
    }

    @Override
    public void putGeneration(Generation generation) {
        putGeneration(generation, null);
    }

    @Override
    public void putGeneration(Generation generation, @Nullable String origin) {
        Objects.requireNonNull(generation, "generation");
        byte[] v = bytes(GENERATION_FORMAT + "|" + generation.id() + "|" + generation.fingerprint());
        eval(
                LuaScript.PUT_GENERATION,
                ScriptOutputType.INTEGER,
                keys(keys.generation(), keys.origin()),
                v,
                bytes(origin == null ? "" : origin));
    }

    /**
     * {@inheritDoc}
     *
     * <p>The identity is the server's {@code run_id}, which every start of a Redis process draws anew:
     * a promoted replica and a restarted server both have another one than the process that stamped
     * the generation. On Cluster this covers the shard holding the {@code {state}} slot.
     */
    @Override
    public StoreOrigin origin() {
        List<Object> r = eval(LuaScript.ORIGIN, ScriptOutputType.MULTI, keys(keys.origin()));
        return new StoreOrigin(text(r.get(1)), text(r.get(0)));
    }

    @Override
    public void putServing(ServingDigest digest, Duration ttl) {
        Objects.requireNonNull(digest, "digest");
        eval(
                LuaScript.PUT_SERVING,
                ScriptOutputType.INTEGER,
                keys(keys.serving()),
                bytes(digest.instanceId()),
                bytes(digest.encode()),
                bytes(Long.toString(ttlMillis(ttl))));
    }

    @Override
    public List<ServingDigest> servingDigests() {
        List<Object> r = eval(LuaScript.SERVING, ScriptOutputType.MULTI, keys(keys.serving()));
        List<ServingDigest> out = new ArrayList<>(r.size());
        for (Object o : r) {
            try {
                out.add(ServingDigest.decode(Objects.requireNonNull(text(o), "text")));
            } catch (RuntimeException e) {
                // One instance's unreadable digest (another Roster version) must not hide the others.
                LOG.warn("skipping an unreadable serving digest: {}", e.getMessage());
            }
        }
        return out;
    }

    private static @Nullable String text(Object o) {
        return o instanceof byte[] b ? str(b) : null;
    }

    // ---- leases ----------------------------------------------------------------------------

    @Override
    public Optional<Lease> tryAcquireLease(String name, Duration ttl) {
        byte[] k = bytes(keys.lease(name));
        long ms = ttlMillis(ttl);
        byte[] token = new byte[16];
        RANDOM.nextBytes(token);
        String hex = HexFormat.of().formatHex(token);
        String ok = call(
                "SET NX", k, () -> redis.set(k, bytes(hex), SetArgs.Builder.nx().px(ms)));
        return "OK".equals(ok) ? Optional.of(new Lease(name, hex)) : Optional.empty();
    }

    @Override
    public boolean renewLease(Lease lease, Duration ttl) {
        Objects.requireNonNull(lease, "lease");
        long ms = ttlMillis(ttl);
        Long r = eval(
                LuaScript.RENEW,
                ScriptOutputType.INTEGER,
                keys(keys.lease(lease.name())),
                bytes(lease.token()),
                bytes(Long.toString(ms)));
        return r == 1L;
    }

    @Override
    public boolean releaseLease(Lease lease) {
        Objects.requireNonNull(lease, "lease");
        Long r =
                eval(LuaScript.RELEASE, ScriptOutputType.INTEGER, keys(keys.lease(lease.name())), bytes(lease.token()));
        return r == 1L;
    }

    private static long ttlMillis(Duration ttl) {
        Objects.requireNonNull(ttl, "lease ttl");
        if (ttl.isNegative() || ttl.isZero() || ttl.toMillis() == 0) {
            throw new IllegalArgumentException("lease ttl must be at least 1 ms, got " + ttl);
        }
        return ttl.toMillis();
    }

    // ---- invalidation ----------------------------------------------------------------------

    @Override
    public Subscription subscribe(Consumer<Invalidation> listener) {
        Objects.requireNonNull(listener, "listener");
        synchronized (pubSubLock) {
            if (closed) {
                throw new IllegalStateException("projection is closed");
            }
            if (pubSub == null) {
                StatefulRedisPubSubConnection<String, String> c = connector.connectPubSub();
                c.addListener(new RedisPubSubAdapter<>() {
                    @Override
                    public void message(String channel, String message) {
                        deliver(message);
                    }
                });
                try {
                    c.sync().subscribe(keys.channel());
                } catch (RedisException e) {
                    c.close();
                    throw new ProjectionUnavailableException("cannot subscribe to " + keys.channel(), e);
                }
                pubSub = c;
            }
            listeners.add(listener);
        }
        return () -> listeners.remove(listener);
    }

    private void deliver(String message) {
        Invalidation inv;
        try {
            String[] p = message.split(" ", -1);
            if (p.length == 2 && RETIRED_MESSAGE.equals(p[1])) {
                inv = Invalidation.retiredBucket(Bucket.parse(p[0]));
            } else if (p.length == 3) {
                inv = new Invalidation(Bucket.parse(p[0]), p[1], Long.parseLong(p[2]));
            } else {
                throw new IllegalArgumentException("expected '<bucket> <generation> <version>' or '<bucket> retired'");
            }
        } catch (IllegalArgumentException e) {
            LOG.warn(
                    "ignoring malformed invalidation on {}: '{}': {}",
                    keys.channel(),
                    abbreviate(message),
                    e.getMessage());
            return;
        }
        for (Consumer<Invalidation> l : listeners) {
            try {
                l.accept(inv);
            } catch (RuntimeException e) {
                LOG.warn("invalidation listener failed for {}", inv, e);
            }
        }
    }

    @Override
    public void close() {
        synchronized (pubSubLock) {
            closed = true;
            listeners.clear();
            if (pubSub != null) {
                pubSub.close();
                pubSub = null;
            }
        }
        if (ownsConnector) {
            connector.close();
        }
    }

    // ---- plumbing --------------------------------------------------------------------------

    /**
     * Runs {@code script} once per call, all issued before the first is awaited; the answers in call
     * order. Any failure fails the whole batch (after the calls before it have run). A script missing
     * from the server's cache is re-sent as EVAL for the calls that reported it.
     */
    private <T> List<T> evalAll(LuaScript script, ScriptOutputType type, List<ScriptCall> calls) {
        String op = "EVALSHA " + script.name();
        RedisClusterAsyncCommands<byte[], byte[]> pipeline = pipeline(calls.size());
        List<RedisFuture<T>> futures = new ArrayList<>(calls.size());
        for (ScriptCall c : calls) {
            futures.add(issue(op, c.keys()[0], () -> pipeline.evalsha(script.sha(), type, c.keys(), c.args())));
        }
        List<T> out = new ArrayList<>(calls.size());
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < calls.size(); i++) {
            try {
                out.add(await(op, calls.get(i).keys()[0], futures.get(i)));
            } catch (RedisCalls.NoScript e) {
                out.add(null);
                missing.add(i);
            }
        }
        if (!missing.isEmpty()) {
            String reload = "EVAL " + script.name();
            List<RedisFuture<T>> again = new ArrayList<>(missing.size());
            for (int i : missing) {
                ScriptCall c = calls.get(i);
                again.add(issue(reload, c.keys()[0], () -> pipeline.eval(script.source(), type, c.keys(), c.args())));
            }
            for (int j = 0; j < missing.size(); j++) {
                int i = missing.get(j);
                out.set(i, await(reload, calls.get(i).keys()[0], again.get(j)));
            }
        }
        return out;
    }

    /**
     * The connection for a pipeline of {@code commands}: large ones on the second connection, so that
     * the small commands of the hot path and of a live batch never queue behind them (decision E17).
     */
    private RedisClusterAsyncCommands<byte[], byte[]> pipeline(int commands) {
        return commands >= BULK_PIPELINE ? connector.bulkAsync() : connector.async();
    }

    private <T> RedisFuture<T> issue(String op, byte[] key, Supplier<RedisFuture<T>> command) {
        // A rejected command (disconnected, queue full) may fail at once instead of in its future.
        return call(op, key, command);
    }

    /** The keys and arguments of one script invocation. */
    // Carries a script's byte arguments; never compared or hashed.
    @SuppressWarnings("ArrayRecordComponent")
    private record ScriptCall(byte[][] keys, long valueBytes, List<String> partIds, byte[]... args) {
        ScriptCall(byte[][] keys, byte[]... args) {
            this(keys, 0, List.of(), args);
        }
    }

    // The caller names the reply type its script returns, as Lettuce's own eval does.
    @SuppressWarnings("TypeParameterUnusedInFormals")
    private <T> T eval(LuaScript script, ScriptOutputType type, byte[][] ks, byte[]... args) {
        return calls.eval(script, type, ks, args);
    }

    private <T> T call(String op, byte[] key, Supplier<T> command) {
        return calls.call(op, key, command);
    }

    private <T> T await(String op, byte[] key, RedisFuture<T> future) {
        return calls.await(op, key, future);
    }

    /**
     * Reads the text value of {@code key}: a miss when absent, corrupt when the reply is of another type
     * or {@code decode} refuses the text (it throws {@link CorruptValueException} naming what is wrong).
     */
    private <T> Lookup<T> readText(String key, Function<String, T> decode) {
        byte[] k = bytes(key);
        try {
            byte[] v = call("GET", k, () -> redis.get(k));
            return v == null ? Lookup.miss() : Lookup.hit(decode.apply(str(v)));
        } catch (CorruptValueException e) {
            return corrupt(e);
        }
    }

    private static <T> Lookup<T> corrupt(CorruptValueException e) {
        LOG.warn("{}", e.getMessage());
        return Lookup.corrupt(e);
    }

    private static byte[][] keys(String... ks) {
        byte[][] out = new byte[ks.length][];
        for (int i = 0; i < ks.length; i++) {
            out[i] = bytes(ks[i]);
        }
        return out;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "...";
    }
}
