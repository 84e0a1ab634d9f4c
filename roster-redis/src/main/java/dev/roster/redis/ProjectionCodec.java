package dev.roster.redis;

import dev.roster.core.AccountCard;
import dev.roster.core.AccountLimits;
import dev.roster.core.Bucket;
import dev.roster.core.GroupLink;
import dev.roster.core.projection.CorruptValueException;
import dev.roster.core.projection.Snapshot;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The compact binary value formats of the Redis projection.
 *
 * <p>Every value starts with a two-byte magic ({@code RS} snapshot, {@code RP} snapshot part, {@code
 * RC} card) and a format version byte. A reader refuses any other format version as {@link
 * CorruptValueException} instead of guessing, so instances of different versions during a rolling
 * upgrade never misread each other; the generation fingerprint names the snapshot format, so such an
 * upgrade also triggers a full rebuild in the new format.
 *
 * <p>A snapshot is stored in one of two forms (decision NC1). A bucket of at most {@link
 * SnapshotParts#INLINE_MAX_CARDS} cards is one <i>inline</i> value holding every card. A larger one is
 * an <i>index</i> naming its <i>parts</i>: runs of consecutive cards, each stored under the SHA-256 of
 * its value (the first 16 bytes, as 32 hex characters), so a part whose cards did not change keeps
 * its id across versions and a reader that holds it does not transfer it again. The part ids sit at
 * the end of the index with their count in four fixed bytes, so the Lua scripts find them without
 * decoding varints.
 *
 * <pre>
 * snapshot := 'R' 'S' format:u8 ('I' inline | 'P' index) bucket:str generation:str version:uvarint rest
 * inline   := count:uvarint card*
 * index    := count:uvarint parts:uvarint partCount:uvarint* partId{parts} parts:u32be
 * partId   := 32 ASCII hex characters: the first 16 bytes of SHA-256 over the part value
 * part     := 'R' 'P' format:u8 count:uvarint card*
 * card     := 'R' 'C' format:u8 cardBody
 * cardBody := id:svarint name:str platform:str type:str status:str flags:u8 priority:svarint
 *             concurrency:svarint present:u8 instant* models:uvarint str* groups:uvarint
 *             (groupId:svarint linkPriority:svarint)* rpmLimit:uvarint weight:uvarint thresholds:u8
 *             threshold5h:u8? threshold7d:u8?   (thresholds bit 0 / bit 1 set when the 5-hour / 7-day
 *             threshold is not null; each present one follows as one byte)
 * instant  := epochSecond:svarint nanos:uvarint     (present bit i set for each non-null of
 *             rateLimitResetAt, overloadUntil, tempUnschedulableUntil, expiresAt, updatedAt)
 * str      := length:uvarint utf8-bytes
 * </pre>
 *
 * Varints are LEB128; signed ones are zig-zag encoded. Trailing bytes are an error.
 */
public final class ProjectionCodec {
    /**
     * The snapshot (and snapshot part) format version written by this code: 3 since cards carry their
     * limits (decision S2 under "One-round-trip selection and new card fields").
     */
    public static final int SNAPSHOT_FORMAT = 3;

    /** The card format version written by this code: 2 since cards carry their limits. */
    public static final int CARD_FORMAT = 2;

    /** The kind byte (offset 3) of an inline snapshot value. */
    static final byte INLINE = 'I';

    /** The kind byte (offset 3) of a snapshot index value. */
    static final byte INDEX = 'P';

    /** The length of a part id: 16 bytes of SHA-256 as hex. */
    public static final int PART_ID_LENGTH = 32;

    private static final byte[] SNAPSHOT_MAGIC = {'R', 'S'};
    private static final byte[] PART_MAGIC = {'R', 'P'};
    private static final byte[] CARD_MAGIC = {'R', 'C'};
    private static final int SCHEDULABLE = 1;
    private static final int AUTO_PAUSE = 2;
    private static final int MIXED = 4;

    private ProjectionCodec() {}

    /**
     * A snapshot as it is written: the value under the snapshot key and, for an index, its parts in
     * order.
     *
     * @param value the inline value or the index
     * @param partIds the parts' ids, in card order (empty for an inline value)
     * @param parts the parts' values, aligned with {@code partIds}
     */
    // Carries encoded bytes; never compared or hashed.
    @SuppressWarnings("ArrayRecordComponent")
    public record Stored(byte[] value, List<String> partIds, List<byte[]> parts) {
        /** The bytes written in all (value and parts). */
        public long size() {
            long n = value.length;
            for (byte[] p : parts) {
                n += p.length;
            }
            return n;
        }
    }

    /** Encodes a snapshot in its stored form: inline when small, else an index and its parts. */
    public static Stored encodeStored(Snapshot s) {
        return encodeStored(s, new Encoder());
    }

    /**
     * {@link #encodeStored(Snapshot)} with the cards and parts {@code encoder} already encoded reused:
     * the same bytes, computed once per card and once per list of cards for every snapshot of one call.
     */
    static Stored encodeStored(Snapshot s, Encoder encoder) {
        List<AccountCard> cards = s.cards();
        if (cards.size() <= SnapshotParts.INLINE_MAX_CARDS) {
            return new Stored(encodeInline(s, encoder), List.of(), List.of());
        }
        Parts p = encoder.parts(s.bucket(), cards);
        Writer w = new Writer(64 + p.ids.size() * (PART_ID_LENGTH + 2));
        header(w, INDEX, s);
        w.uvarint(cards.size());
        w.uvarint(p.ids.size());
        for (int size : p.sizes) {
            w.uvarint(size);
        }
        for (String id : p.ids) {
            w.bytes(id.getBytes(StandardCharsets.US_ASCII));
        }
        w.u32be(p.ids.size());
        return new Stored(w.toBytes(), p.ids, p.parts);
    }

    /** A list of cards cut into parts: the cards, and each part's card count, id and value, in card order. */
    // Carries encoded bytes; never compared or hashed.
    @SuppressWarnings("ArrayRecordComponent")
    private record Parts(List<AccountCard> cards, int[] sizes, List<String> ids, List<byte[]> parts) {}

    /**
     * The parts last encoded per bucket, kept across publish calls (decision E16): a change of one card
     * in a 25,000-card bucket then encodes and hashes the one or two parts that hold it, and reuses every
     * other part whose cards equal last time's (mostly the same instances: the pool model keeps a card's
     * instance while its row does not change). A part's value depends on its cards only, so a memo that is stale
     * or was made for another generation never yields a wrong value: it only fails to save work.
     * Thread-safe; one per projection.
     */
    static final class PartsMemo {
        private final Map<Bucket, Parts> last = new ConcurrentHashMap<>();

        /** Forgets a bucket (retired: its next content is encoded from scratch). */
        void forget(Bucket b) {
            last.remove(b);
        }

        /** How many buckets' parts are kept (tests). */
        int size() {
            return last.size();
        }
    }

    /**
     * Encodes the cards of one publish call once each. A card is listed in several buckets (its group's
     * and group 0's, in each mode) and buckets of one query share their list, so a full rebuild or a
     * replay batch that publishes many buckets encodes most cards several times over without it. Keyed
     * by identity: the pool model keeps a card's instance while its row does not change. Not thread-safe;
     * one per call.
     */
    static final class Encoder {
        private final IdentityHashMap<AccountCard, byte[]> cards = new IdentityHashMap<>();
        private final IdentityHashMap<List<AccountCard>, Parts> parts = new IdentityHashMap<>();
        private final @Nullable PartsMemo memo;

        /** An encoder that remembers nothing beyond its call. */
        Encoder() {
            this(null);
        }

        /** An encoder that reuses, and records, the parts of {@code memo} (may be {@code null}). */
        Encoder(@Nullable PartsMemo memo) {
            this.memo = memo;
        }

        byte[] card(AccountCard c) {
            byte[] b = cards.get(c);
            if (b == null) {
                Writer w = new Writer(160);
                cardBody(w, c);
                b = w.toBytes();
                cards.put(c, b);
            }
            return b;
        }

        private Parts parts(Bucket bucket, List<AccountCard> list) {
            Parts p = parts.get(list);
            if (p == null) {
                p = cut(list, memo == null ? null : memo.last.get(bucket));
                parts.put(list, p);
            }
            if (memo != null) {
                memo.last.put(bucket, p);
            }
            return p;
        }

        private Parts cut(List<AccountCard> list, @Nullable Parts previous) {
            int[] ends = SnapshotParts.ends(list);
            int[] sizes = new int[ends.length];
            List<String> ids = new ArrayList<>(ends.length);
            List<byte[]> values = new ArrayList<>(ends.length);
            Map<Long, Integer> reusable = previous == null ? Map.of() : starts(previous);
            int[] previousFrom = previous == null ? new int[0] : offsets(previous.sizes);
            int from = 0;
            for (int k = 0; k < ends.length; k++) {
                int end = ends[k];
                sizes[k] = end - from;
                Integer j = reusable.get(list.get(from).id());
                if (j != null
                        && previous != null
                        && previous.sizes[j] == end - from
                        && sameRun(list, from, previous.cards, previousFrom[j], end - from)) {
                    values.add(previous.parts.get(j));
                    ids.add(previous.ids.get(j));
                    from = end;
                    continue;
                }
                Writer pw = new Writer(16 + (end - from) * 160);
                pw.bytes(PART_MAGIC);
                pw.u8(SNAPSHOT_FORMAT);
                pw.uvarint(end - from);
                for (int i = from; i < end; i++) {
                    pw.bytes(card(list.get(i)));
                }
                byte[] part = pw.toBytes();
                values.add(part);
                ids.add(partId(part));
                from = end;
            }
            return new Parts(list, sizes, List.copyOf(ids), List.copyOf(values));
        }

        /** Per part of {@code p}, the id of its first card and the part's index. */
        private static Map<Long, Integer> starts(Parts p) {
            Map<Long, Integer> out = new HashMap<>(p.sizes.length * 2);
            int at = 0;
            for (int k = 0; k < p.sizes.length; k++) {
                out.put(p.cards.get(at).id(), k);
                at += p.sizes[k];
            }
            return out;
        }

        private static int[] offsets(int[] sizes) {
            int[] out = new int[sizes.length];
            int at = 0;
            for (int k = 0; k < sizes.length; k++) {
                out[k] = at;
                at += sizes[k];
            }
            return out;
        }

        /**
         * Whether the {@code n} cards from {@code a[i]} equal those from {@code b[j]}: mostly the very
         * instances (the replayer's model keeps them), compared by value otherwise (a full rebuild loads
         * new instances of unchanged rows; comparing is cheaper than encoding and hashing them).
         */
        // Identity first on purpose: it is the common case and skips a field-by-field comparison.
        @SuppressWarnings("ReferenceEquality")
        private static boolean sameRun(List<AccountCard> a, int i, List<AccountCard> b, int j, int n) {
            for (int k = 0; k < n; k++) {
                AccountCard x = a.get(i + k);
                AccountCard y = b.get(j + k);
                if (x != y && !x.equals(y)) {
                    return false;
                }
            }
            return true;
        }
    }

    /** Encodes a snapshot as one inline value, whatever its size (tests and tools). */
    public static byte[] encodeSnapshot(Snapshot s) {
        return encodeInline(s, new Encoder());
    }

    private static byte[] encodeInline(Snapshot s, Encoder encoder) {
        Writer w = new Writer(64 + s.cards().size() * 160);
        header(w, INLINE, s);
        w.uvarint(s.cards().size());
        for (AccountCard c : s.cards()) {
            w.bytes(encoder.card(c));
        }
        return w.toBytes();
    }

    private static void header(Writer w, byte kind, Snapshot s) {
        w.bytes(SNAPSHOT_MAGIC);
        w.u8(SNAPSHOT_FORMAT);
        w.u8(kind);
        w.str(s.bucket().text());
        w.str(s.generation());
        w.uvarint(s.version());
    }

    /** The id of a part value: the first 16 bytes of its SHA-256, as lower-case hex. */
    public static String partId(byte[] part) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(part);
            return HexFormat.of().formatHex(d, 0, PART_ID_LENGTH / 2);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    /**
     * The number of leading bytes {@link #isSnapshotOf} needs: magic, format, kind and the bucket's
     * text.
     */
    public static int snapshotHeaderLength(Bucket bucket) {
        Writer w = new Writer(8 + bucket.text().length());
        w.str(bucket.text());
        return 4 + w.toBytes().length;
    }

    /**
     * Whether {@code prefix}, the first {@link #snapshotHeaderLength} bytes of a stored value, starts a
     * snapshot of {@code bucket} in this format (inline or index). Tells a readable snapshot from a
     * missing one, another format or another bucket's value without transferring the cards.
     */
    public static boolean isSnapshotOf(Bucket bucket, byte[] prefix) {
        Writer w = new Writer(8 + bucket.text().length());
        w.str(bucket.text());
        byte[] name = w.toBytes();
        if (prefix == null || prefix.length != 4 + name.length) {
            return false;
        }
        if (prefix[0] != SNAPSHOT_MAGIC[0] || prefix[1] != SNAPSHOT_MAGIC[1] || (prefix[2] & 0xFF) != SNAPSHOT_FORMAT) {
            return false;
        }
        if (prefix[3] != INLINE && prefix[3] != INDEX) {
            return false;
        }
        return Arrays.equals(prefix, 4, prefix.length, name, 0, name.length);
    }

    /**
     * A decoded snapshot value: either a complete inline snapshot, or an index whose parts are still to
     * be read.
     *
     * @param generation the generation stamped on the snapshot
     * @param version its version
     * @param identity the value's leading bytes up to and including the version: equal bytes mean the
     *     same (bucket, generation, version) in the same form, which is how a reader asks "is it still
     *     this one?" without transferring it
     * @param inline the cards of an inline value, or {@code null} for an index
     * @param count the number of cards
     * @param partCounts per part, its number of cards (empty for inline)
     * @param partIds per part, its id (empty for inline)
     */
    // Carries encoded bytes; never compared or hashed.
    @SuppressWarnings("ArrayRecordComponent")
    public record Head(
            String generation,
            long version,
            byte[] identity,
            @Nullable List<AccountCard> inline,
            int count,
            int[] partCounts,
            List<String> partIds) {}

    /**
     * Decodes a snapshot value (inline or index) read from {@code key}, which must hold {@code
     * expected}'s snapshot.
     *
     * @throws CorruptValueException naming the key and what is wrong
     */
    public static Head decodeHead(String key, byte[] value, Bucket expected) {
        Reader r = new Reader(key, value);
        try {
            r.header(SNAPSHOT_MAGIC, "snapshot", SNAPSHOT_FORMAT);
            int kind = r.u8();
            if (kind != INLINE && kind != INDEX) {
                throw r.corrupt("unknown snapshot kind " + kind);
            }
            String bucket = r.str();
            if (!bucket.equals(expected.text())) {
                throw r.corrupt("holds the snapshot of bucket '" + bucket + "', expected '" + expected.text() + "'");
            }
            String generation = r.str();
            long version = r.uvarint();
            byte[] identity = Arrays.copyOf(value, r.pos);
            if (kind == INLINE) {
                int n = r.count();
                List<AccountCard> cards = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    cards.add(r.cardBody());
                }
                r.end();
                return new Head(generation, version, identity, cards, n, new int[0], List.of());
            }
            long total = r.uvarint();
            int parts = r.count();
            int[] counts = new int[parts];
            long sum = 0;
            for (int i = 0; i < parts; i++) {
                long c = r.uvarint();
                if (c < 1 || c > Integer.MAX_VALUE) {
                    throw r.corrupt("part " + i + " has " + c + " cards");
                }
                counts[i] = (int) c;
                sum += c;
            }
            if (sum != total || total > Integer.MAX_VALUE) {
                throw r.corrupt("parts hold " + sum + " cards, the index says " + total);
            }
            List<String> ids = new ArrayList<>(parts);
            for (int i = 0; i < parts; i++) {
                ids.add(r.partId());
            }
            long trailer = r.u32be();
            if (trailer != parts) {
                throw r.corrupt("index trailer names " + trailer + " parts, the index has " + parts);
            }
            r.end();
            return new Head(generation, version, identity, null, (int) total, counts, List.copyOf(ids));
        } catch (CorruptValueException e) {
            throw e;
        } catch (RuntimeException e) {
            throw r.corrupt("invalid content: " + e.getMessage(), e);
        }
    }

    /**
     * Decodes a part value read from {@code key} that the index names as {@code expectedId} with {@code
     * expectedCount} cards; the value's hash must be its id, so a part that was altered, truncated or
     * replaced is refused rather than spliced into a snapshot.
     *
     * @throws CorruptValueException naming the key and what is wrong
     */
    public static List<AccountCard> decodePart(String key, byte[] value, String expectedId, int expectedCount) {
        Reader r = new Reader(key, value);
        try {
            r.header(PART_MAGIC, "snapshot part", SNAPSHOT_FORMAT);
            String id = partId(value);
            if (!id.equals(expectedId)) {
                throw r.corrupt("content hashes to " + id + ", the index names " + expectedId);
            }
            int n = r.count();
            if (n != expectedCount) {
                throw r.corrupt("holds " + n + " cards, the index says " + expectedCount);
            }
            List<AccountCard> cards = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                cards.add(r.cardBody());
            }
            r.end();
            return cards;
        } catch (CorruptValueException e) {
            throw e;
        } catch (RuntimeException e) {
            throw r.corrupt("invalid content: " + e.getMessage(), e);
        }
    }

    /**
     * Decodes an inline snapshot value read from {@code key}, which must hold {@code expected}'s
     * snapshot (an index is refused: its parts are elsewhere).
     *
     * @throws CorruptValueException naming the key and what is wrong
     */
    public static Snapshot decodeSnapshot(String key, byte[] value, Bucket expected) {
        Head h = decodeHead(key, value, expected);
        if (h.inline() == null) {
            throw new CorruptValueException(key, "is a snapshot index, not an inline snapshot");
        }
        try {
            return new Snapshot(expected, h.generation(), h.version(), h.inline());
        } catch (RuntimeException e) {
            throw new CorruptValueException(key, "invalid content: " + e.getMessage(), e);
        }
    }

    /** Encodes a card value. */
    public static byte[] encodeCard(AccountCard c) {
        Writer w = new Writer(192);
        w.bytes(CARD_MAGIC);
        w.u8(CARD_FORMAT);
        cardBody(w, c);
        return w.toBytes();
    }

    /**
     * Decodes a card value read from {@code key}, which must hold account {@code expectedId}.
     *
     * @throws CorruptValueException naming the key and what is wrong
     */
    public static AccountCard decodeCard(String key, byte[] value, long expectedId) {
        Reader r = new Reader(key, value);
        try {
            r.header(CARD_MAGIC, "card", CARD_FORMAT);
            AccountCard c = r.cardBody();
            r.end();
            if (c.id() != expectedId) {
                throw r.corrupt("holds the card of account " + c.id() + ", expected " + expectedId);
            }
            return c;
        } catch (CorruptValueException e) {
            throw e;
        } catch (RuntimeException e) {
            throw r.corrupt("invalid content: " + e.getMessage(), e);
        }
    }

    private static void cardBody(Writer w, AccountCard c) {
        w.svarint(c.id());
        w.str(c.name());
        w.str(c.platform());
        w.str(c.type());
        w.str(c.status());
        w.u8((c.schedulable() ? SCHEDULABLE : 0)
                | (c.autoPauseOnExpired() ? AUTO_PAUSE : 0)
                | (c.mixedScheduling() ? MIXED : 0));
        w.svarint(c.priority());
        w.svarint(c.concurrency());
        Instant[] instants = {
            c.rateLimitResetAt(), c.overloadUntil(), c.tempUnschedulableUntil(), c.expiresAt(), c.updatedAt()
        };
        int present = 0;
        for (int i = 0; i < instants.length; i++) {
            if (instants[i] != null) {
                present |= 1 << i;
            }
        }
        w.u8(present);
        for (Instant t : instants) {
            if (t != null) {
                w.svarint(t.getEpochSecond());
                w.uvarint(t.getNano());
            }
        }
        w.uvarint(c.supportedModels().size());
        for (String m : c.supportedModels()) {
            w.str(m);
        }
        w.uvarint(c.groups().size());
        for (GroupLink g : c.groups()) {
            w.svarint(g.groupId());
            w.svarint(g.priority());
        }
        AccountLimits l = c.limits();
        w.uvarint(l.rpmLimit());
        w.uvarint(l.weight());
        w.u8((l.quotaThreshold5h() != null ? 1 : 0) | (l.quotaThreshold7d() != null ? 2 : 0));
        if (l.quotaThreshold5h() != null) {
            w.u8(l.quotaThreshold5h());
        }
        if (l.quotaThreshold7d() != null) {
            w.u8(l.quotaThreshold7d());
        }
    }

    private static final class Writer {
        private byte[] buf;
        private int pos;

        Writer(int capacity) {
            buf = new byte[capacity];
        }

        private void ensure(int n) {
            if (pos + n > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
            }
        }

        void u8(int v) {
            ensure(1);
            buf[pos++] = (byte) v;
        }

        void bytes(byte[] b) {
            ensure(b.length);
            System.arraycopy(b, 0, buf, pos, b.length);
            pos += b.length;
        }

        void uvarint(long v) {
            ensure(10);
            while ((v & ~0x7FL) != 0) {
                buf[pos++] = (byte) ((v & 0x7F) | 0x80);
                v >>>= 7;
            }
            buf[pos++] = (byte) v;
        }

        void svarint(long v) {
            uvarint((v << 1) ^ (v >> 63));
        }

        void u32be(int v) {
            ensure(4);
            buf[pos++] = (byte) (v >>> 24);
            buf[pos++] = (byte) (v >>> 16);
            buf[pos++] = (byte) (v >>> 8);
            buf[pos++] = (byte) v;
        }

        void str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            uvarint(b.length);
            bytes(b);
        }

        byte[] toBytes() {
            return Arrays.copyOf(buf, pos);
        }
    }

    private static final class Reader {
        private final String key;
        private final byte[] buf;
        private int pos;

        Reader(String key, byte[] buf) {
            this.key = key;
            this.buf = buf;
        }

        CorruptValueException corrupt(String reason) {
            return new CorruptValueException(key, reason);
        }

        CorruptValueException corrupt(String reason, Throwable cause) {
            return new CorruptValueException(key, reason, cause);
        }

        void header(byte[] magic, String what, int understood) {
            if (buf.length < 3 || buf[0] != magic[0] || buf[1] != magic[1]) {
                throw corrupt("not a roster " + what + " value (bad magic, " + buf.length + " bytes)");
            }
            int format = buf[2] & 0xFF;
            if (format != understood) {
                throw corrupt("format version " + format + ", this reader understands " + understood);
            }
            pos = 3;
        }

        int u8() {
            if (pos >= buf.length) {
                throw corrupt("truncated at byte " + pos);
            }
            return buf[pos++] & 0xFF;
        }

        long uvarint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                int b = u8();
                v |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    return v;
                }
            }
            throw corrupt("varint longer than 10 bytes at byte " + pos);
        }

        long u32be() {
            long v = 0;
            for (int i = 0; i < 4; i++) {
                v = (v << 8) | u8();
            }
            return v;
        }

        String partId() {
            if (buf.length - pos < PART_ID_LENGTH) {
                throw corrupt("truncated part id at byte " + pos);
            }
            for (int i = pos; i < pos + PART_ID_LENGTH; i++) {
                byte b = buf[i];
                if (!((b >= '0' && b <= '9') || (b >= 'a' && b <= 'f'))) {
                    throw corrupt("part id with a non-hex byte at " + i);
                }
            }
            String id = new String(buf, pos, PART_ID_LENGTH, StandardCharsets.US_ASCII);
            pos += PART_ID_LENGTH;
            return id;
        }

        long svarint() {
            long v = uvarint();
            return (v >>> 1) ^ -(v & 1);
        }

        int svarint32(String what) {
            long v = svarint();
            if (v != (int) v) {
                throw corrupt(what + " out of int range: " + v);
            }
            return (int) v;
        }

        int uvarint32(String what) {
            long v = uvarint();
            if (v < 0 || v > Integer.MAX_VALUE) {
                throw corrupt(what + " out of int range: " + v);
            }
            return (int) v;
        }

        int count() {
            long n = uvarint();
            // Each element takes at least one byte, so a larger count is a lie.
            if (n > buf.length - pos) {
                throw corrupt("count " + n + " exceeds the " + (buf.length - pos) + " remaining bytes");
            }
            return (int) n;
        }

        String str() {
            int n = count();
            String s = new String(buf, pos, n, StandardCharsets.UTF_8);
            pos += n;
            return s;
        }

        Instant instant() {
            long sec = svarint();
            long nanos = uvarint();
            if (nanos > 999_999_999L) {
                throw corrupt("nanos out of range: " + nanos);
            }
            return Instant.ofEpochSecond(sec, nanos);
        }

        AccountCard cardBody() {
            long id = svarint();
            String name = str();
            String platform = str();
            String type = str();
            String status = str();
            int flags = u8();
            int priority = svarint32("priority");
            int concurrency = svarint32("concurrency");
            int present = u8();
            Instant[] t = new Instant[5];
            for (int i = 0; i < t.length; i++) {
                if ((present & (1 << i)) != 0) {
                    t[i] = instant();
                }
            }
            int nm = count();
            List<String> models = new ArrayList<>(nm);
            for (int i = 0; i < nm; i++) {
                models.add(str());
            }
            int ng = count();
            List<GroupLink> groups = new ArrayList<>(ng);
            for (int i = 0; i < ng; i++) {
                groups.add(new GroupLink(svarint(), svarint32("link priority")));
            }
            int rpm = uvarint32("rpm limit");
            int weight = uvarint32("weight");
            int thresholds = u8();
            if ((thresholds & ~3) != 0) {
                throw corrupt("unknown threshold bits " + thresholds);
            }
            Integer t5h = (thresholds & 1) != 0 ? u8() : null;
            Integer t7d = (thresholds & 2) != 0 ? u8() : null;
            return new AccountCard(
                    id,
                    name,
                    platform,
                    type,
                    status,
                    (flags & SCHEDULABLE) != 0,
                    priority,
                    concurrency,
                    t[0],
                    t[1],
                    t[2],
                    t[3],
                    (flags & AUTO_PAUSE) != 0,
                    (flags & MIXED) != 0,
                    models,
                    groups,
                    t[4],
                    new AccountLimits(rpm, weight, t5h, t7d));
        }

        void end() {
            if (pos != buf.length) {
                throw corrupt((buf.length - pos) + " trailing bytes after byte " + pos);
            }
        }
    }
}
