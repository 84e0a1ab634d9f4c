package dev.roster.redis;

import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.GroupLink;
import dev.roster.core.projection.CorruptValueException;
import dev.roster.core.projection.Snapshot;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The compact binary value formats of the Redis projection.
 *
 * <p>Every value starts with a two-byte magic ({@code RS} snapshot, {@code RC} card) and a format
 * version byte. A reader refuses any other format version as {@link CorruptValueException} instead of
 * guessing, so instances of different versions during a rolling upgrade never misread each other;
 * the generation fingerprint includes {@link #FORMAT_VERSION}, so such an upgrade also triggers a full
 * rebuild in the new format.
 *
 * <pre>
 * snapshot := 'R' 'S' format:u8 bucket:str generation:str version:uvarint count:uvarint card*
 * card     := 'R' 'C' format:u8 cardBody
 * cardBody := id:svarint name:str platform:str type:str status:str flags:u8 priority:svarint
 *             concurrency:svarint present:u8 instant* models:uvarint str* groups:uvarint
 *             (groupId:svarint linkPriority:svarint)*
 * instant  := epochSecond:svarint nanos:uvarint     (present bit i set for each non-null of
 *             rateLimitResetAt, overloadUntil, tempUnschedulableUntil, expiresAt, updatedAt)
 * str      := length:uvarint utf8-bytes
 * </pre>
 *
 * Varints are LEB128; signed ones are zig-zag encoded. Trailing bytes are an error.
 */
public final class ProjectionCodec {
    /** The value format version written by this code. */
    public static final int FORMAT_VERSION = 1;

    private static final byte[] SNAPSHOT_MAGIC = {'R', 'S'};
    private static final byte[] CARD_MAGIC = {'R', 'C'};
    private static final int SCHEDULABLE = 1;
    private static final int AUTO_PAUSE = 2;
    private static final int MIXED = 4;

    private ProjectionCodec() {}

    /** Encodes a snapshot value. */
    public static byte[] encodeSnapshot(Snapshot s) {
        Writer w = new Writer(64 + s.cards().size() * 160);
        w.bytes(SNAPSHOT_MAGIC);
        w.u8(FORMAT_VERSION);
        w.str(s.bucket().text());
        w.str(s.generation());
        w.uvarint(s.version());
        w.uvarint(s.cards().size());
        for (AccountCard c : s.cards()) {
            cardBody(w, c);
        }
        return w.toBytes();
    }

    /**
     * The bytes every snapshot value of {@code bucket} in this format starts with: magic, format
     * version and the bucket's text. Comparing a stored value's first bytes with this tells a readable
     * snapshot from a missing one, another format or another bucket's value without transferring the
     * cards.
     */
    public static byte[] snapshotHeader(Bucket bucket) {
        Writer w = new Writer(8 + bucket.text().length());
        w.bytes(SNAPSHOT_MAGIC);
        w.u8(FORMAT_VERSION);
        w.str(bucket.text());
        return w.toBytes();
    }

    /**
     * Decodes a snapshot value read from {@code key}, which must hold {@code expected}'s snapshot.
     *
     * @throws CorruptValueException naming the key and what is wrong
     */
    public static Snapshot decodeSnapshot(String key, byte[] value, Bucket expected) {
        Reader r = new Reader(key, value);
        try {
            r.header(SNAPSHOT_MAGIC, "snapshot");
            String bucket = r.str();
            if (!bucket.equals(expected.text())) {
                throw r.corrupt("holds the snapshot of bucket '" + bucket + "', expected '" + expected.text() + "'");
            }
            String generation = r.str();
            long version = r.uvarint();
            int n = r.count();
            List<AccountCard> cards = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                cards.add(r.cardBody());
            }
            r.end();
            return new Snapshot(expected, generation, version, cards);
        } catch (CorruptValueException e) {
            throw e;
        } catch (RuntimeException e) {
            throw r.corrupt("invalid content: " + e.getMessage(), e);
        }
    }

    /** Encodes a card value. */
    public static byte[] encodeCard(AccountCard c) {
        Writer w = new Writer(192);
        w.bytes(CARD_MAGIC);
        w.u8(FORMAT_VERSION);
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
            r.header(CARD_MAGIC, "card");
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

        void header(byte[] magic, String what) {
            if (buf.length < 3 || buf[0] != magic[0] || buf[1] != magic[1]) {
                throw corrupt("not a roster " + what + " value (bad magic, " + buf.length + " bytes)");
            }
            int format = buf[2] & 0xFF;
            if (format != FORMAT_VERSION) {
                throw corrupt("format version " + format + ", this reader understands " + FORMAT_VERSION);
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
                    t[4]);
        }

        void end() {
            if (pos != buf.length) {
                throw corrupt((buf.length - pos) + " trailing bytes after byte " + pos);
            }
        }
    }
}
