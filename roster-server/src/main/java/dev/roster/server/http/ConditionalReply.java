package dev.roster.server.http;

import io.javalin.http.Context;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Sends an {@link EncodedAnswer} the way the request can take it (decision H2): {@code 304} with no body
 * when {@code If-None-Match} names the answer's entity tag, the cached gzip copy when {@code
 * Accept-Encoding} accepts gzip, the JSON otherwise. Every answer says {@code Vary: Accept-Encoding} and,
 * when it has a tag, {@code ETag} and {@code Cache-Control: no-cache} (a cache may keep it but must ask
 * again before reuse, which is exactly the conditional request).
 */
final class ConditionalReply {
    private ConditionalReply() {}

    /** The body to return from a handler ({@code null} for a 304, whose status is set on {@code call}). */
    static HttpServer.@Nullable Raw send(Call call, EncodedAnswer answer) {
        Context ctx = call.ctx();
        boolean gzip = acceptsGzip(ctx.header("Accept-Encoding"));
        ctx.header("Vary", "Accept-Encoding");
        String tag = gzip ? answer.gzipEtag() : answer.etag();
        if (tag != null) {
            ctx.header("ETag", tag);
            ctx.header("Cache-Control", "no-cache");
            String inm = ctx.header("If-None-Match");
            // Weak comparison (as If-None-Match asks): either encoding's tag means the client holds this answer.
            if (inm != null && (matches(inm, answer.etag()) || matches(inm, answer.gzipEtag()))) {
                call.status(304);
                return null;
            }
        }
        if (gzip) {
            ctx.header("Content-Encoding", "gzip");
            return new HttpServer.Raw("application/json", answer.gzip());
        }
        return new HttpServer.Raw("application/json", answer.json());
    }

    /** Whether an {@code If-None-Match} value names {@code etag} (or is {@code *}). */
    static boolean matches(String ifNoneMatch, @Nullable String etag) {
        for (String t : ifNoneMatch.split(",", -1)) {
            String s = t.strip();
            if (s.equals("*")) {
                return true;
            }
            if (s.startsWith("W/")) {
                s = s.substring(2);
            }
            if (s.equals(etag)) {
                return true;
            }
        }
        return false;
    }

    /** Whether an {@code Accept-Encoding} value accepts gzip ({@code gzip} or {@code *} with a non-zero q). */
    static boolean acceptsGzip(@Nullable String acceptEncoding) {
        if (acceptEncoding == null) {
            return false;
        }
        boolean star = false;
        for (String part : acceptEncoding.split(",", -1)) {
            String[] p = part.split(";", -1);
            String coding = p[0].strip().toLowerCase(Locale.ROOT);
            double q = 1;
            for (int i = 1; i < p.length; i++) {
                String param = p[i].strip();
                if (param.startsWith("q=") || param.startsWith("Q=")) {
                    try {
                        q = Double.parseDouble(param.substring(2).strip());
                    } catch (NumberFormatException e) {
                        // A malformed weight is ignored like a missing one: the coding stays acceptable.
                        q = 1;
                    }
                }
            }
            if (coding.equals("gzip") || coding.equals("x-gzip")) {
                return q > 0;
            }
            if (coding.equals("*")) {
                star = q > 0;
            }
        }
        return star;
    }
}
