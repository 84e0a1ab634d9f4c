package dev.roster.server.http;

import java.nio.ByteBuffer;
import java.util.Base64;
import org.jspecify.annotations.Nullable;

/**
 * The {@code id:} of a watch stream's events: the answer fingerprint of every watched bucket, in the
 * order of the request's {@code bucket} parameters, as the client was last told them (decision W3). A
 * client that reconnects with it in {@code Last-Event-ID} is sent exactly the buckets whose answer
 * differs from what the id says, so nothing that changed while it was away is missed, whatever happened
 * on the server meanwhile (restart, another instance behind a load balancer).
 *
 * <p>Form: {@code w1.} followed by base64url (no padding) of one 64-bit fingerprint per bucket.
 */
final class WatchIds {
    private static final String PREFIX = "w1.";
    private static final Base64.Encoder ENC = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder DEC = Base64.getUrlDecoder();

    private WatchIds() {}

    static String encode(long[] fingerprints) {
        ByteBuffer b = ByteBuffer.allocate(fingerprints.length * Long.BYTES);
        for (long f : fingerprints) {
            b.putLong(f);
        }
        return PREFIX + ENC.encodeToString(b.array());
    }

    /**
     * The fingerprints in {@code id} when it is a well-formed id for {@code buckets} buckets, else {@code
     * null} (the client is then told every bucket: an unreadable id costs a few events, never a miss).
     */
    static long @Nullable [] decode(@Nullable String id, int buckets) {
        if (id == null || !id.startsWith(PREFIX) || id.length() > PREFIX.length() + 4 * buckets * 3) {
            return null;
        }
        byte[] raw;
        try {
            raw = DEC.decode(id.substring(PREFIX.length()));
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (raw.length != buckets * Long.BYTES) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(raw);
        long[] out = new long[buckets];
        for (int i = 0; i < buckets; i++) {
            out[i] = b.getLong();
        }
        return out;
    }
}
