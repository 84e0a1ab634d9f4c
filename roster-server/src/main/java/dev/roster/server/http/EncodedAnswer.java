package dev.roster.server.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.zip.GZIPOutputStream;
import org.jspecify.annotations.Nullable;

/**
 * One answer's bytes as sent: the JSON, its entity tag, and a gzip copy made on first demand and kept.
 * Shared by every request that gets this answer, so nothing in it is ever modified after publication.
 */
final class EncodedAnswer {
    private final @Nullable String etag;
    private final byte[] json;
    private volatile byte @Nullable [] gzip;

    /** @param etag the quoted entity tag of the JSON, or {@code null} when the answer has no validator */
    EncodedAnswer(@Nullable String etag, byte[] json) {
        this.etag = etag;
        this.json = json;
    }

    /** The entity tag of the identity encoding (quoted), or {@code null}. */
    @Nullable
    String etag() {
        return etag;
    }

    /** The entity tag of the gzip encoding: a different representation, so a different strong tag. */
    @Nullable
    String gzipEtag() {
        return etag == null ? null : etag.substring(0, etag.length() - 1) + "+gzip\"";
    }

    /** The JSON bytes (do not modify). */
    byte[] json() {
        return json;
    }

    /** The gzip bytes of {@link #json()} (do not modify); compressed once, by whichever request comes first. */
    byte[] gzip() {
        byte[] g = gzip;
        if (g == null) {
            // Two first requests may both compress; either result is the same bytes' encoding.
            g = compress(json);
            gzip = g;
        }
        return g;
    }

    private static byte[] compress(byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, raw.length / 4));
        try (GZIPOutputStream z = new GZIPOutputStream(out, 8192)) {
            z.write(raw);
        } catch (IOException e) {
            throw new UncheckedIOException("gzip of an in-memory answer failed", e);
        }
        return out.toByteArray();
    }
}
