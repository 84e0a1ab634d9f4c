package dev.roster.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * One request as the handlers see it: validated parameters (a 400 naming the parameter otherwise), the
 * body read with the size cap, and the request's time budget.
 */
final class Call {
    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,19}");

    private final Context ctx;
    private final long maxBody;
    private final Duration budget;
    private int status = 200;

    Call(Context ctx, long maxBody, Duration budget) {
        this.ctx = ctx;
        this.maxBody = maxBody;
        this.budget = budget;
    }

    /** The Javalin context (headers, raw access). */
    Context ctx() {
        return ctx;
    }

    /** How long this request may still take (server.request_timeout and X-Roster-Deadline-Ms). */
    Duration budget() {
        return budget;
    }

    /** Sets the success status (201, 202, 204). */
    void status(int s) {
        this.status = s;
    }

    int status() {
        return status;
    }

    /** A path parameter that must be a non-negative 64-bit id. */
    long pathId(String name) {
        return id(name, ctx.pathParam(name), "path parameter");
    }

    /** A positive path id (accounts and groups start at 1). */
    long positivePathId(String name) {
        long v = pathId(name);
        if (v <= 0) {
            throw ApiError.badRequest("path parameter " + name + " must be a positive integer, got '" + v + "'");
        }
        return v;
    }

    /** An optional non-negative integer query parameter. */
    @Nullable
    Long queryId(String name) {
        String v = ctx.queryParam(name);
        return v == null || v.isEmpty() ? null : id(name, v, "query parameter");
    }

    /** An optional integer query parameter within bounds. */
    int queryInt(String name, int dflt, int min, int max) {
        String v = ctx.queryParam(name);
        if (v == null || v.isEmpty()) {
            return dflt;
        }
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("query parameter " + name + " must be an integer, got '" + clip(v) + "'");
        }
        if (n < min || n > max) {
            throw ApiError.badRequest(
                    "query parameter " + name + " must be between " + min + " and " + max + ", got " + n);
        }
        return (int) n;
    }

    /** An optional boolean query parameter ({@code true}/{@code false}). */
    boolean queryBool(String name, boolean dflt) {
        String v = ctx.queryParam(name);
        if (v == null || v.isEmpty()) {
            return dflt;
        }
        return switch (v) {
            case "true" -> true;
            case "false" -> false;
            default ->
                throw ApiError.badRequest("query parameter " + name + " must be true or false, got '" + clip(v) + "'");
        };
    }

    /** A required text query parameter. */
    String queryRequired(String name) {
        String v = ctx.queryParam(name);
        if (v == null || v.isEmpty()) {
            throw ApiError.badRequest("query parameter " + name + " is required");
        }
        return v;
    }

    /** The body parsed as {@code type}; 400 for malformed JSON or unknown fields, 413 above the cap. */
    <T> T body(Class<T> type) {
        return bodyOf(rawBody(), type);
    }

    /**
     * The body as a JSON object of plain values (maps, lists, strings, numbers, booleans, nulls), for
     * writes that must tell an omitted field from a {@code null} one; errors as {@link #body}.
     */
    Map<String, Object> bodyObject() {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = bodyOf(rawBody(), LinkedHashMap.class);
        return m;
    }

    /** The JSON path of a mismatched value ({@code excluded_ids[0]}), or empty at the top level. */
    private static String field(MismatchedInputException e) {
        StringBuilder b = new StringBuilder();
        for (com.fasterxml.jackson.databind.JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                b.append(b.isEmpty() ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                b.append('[').append(r.getIndex()).append(']');
            }
        }
        return clip(b.toString());
    }

    /** {@code bytes} parsed as {@code type}, with the errors of {@link #body}. */
    <T> T bodyOf(byte[] bytes, Class<T> type) {
        if (bytes.length == 0) {
            throw ApiError.badRequest("a JSON body is required");
        }
        try {
            T v = Json.MAPPER.readValue(bytes, type);
            if (v == null) {
                throw ApiError.badRequest("a JSON object is required, got null");
            }
            return v;
        } catch (UnrecognizedPropertyException e) {
            throw ApiError.badRequest("unknown field '" + e.getPropertyName() + "'");
        } catch (MismatchedInputException e) {
            // A value of the wrong type: name the field it was for (decision SP5).
            String field = field(e);
            String where = e.getLocation() == null
                    ? ""
                    : " at line " + e.getLocation().getLineNr() + ", column "
                            + e.getLocation().getColumnNr();
            throw ApiError.badRequest("malformed JSON" + where + ": " + (field.isEmpty() ? "" : "field " + field + ": ")
                    + clip(e.getOriginalMessage()));
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null
                    ? ""
                    : " at line " + e.getLocation().getLineNr() + ", column "
                            + e.getLocation().getColumnNr();
            throw ApiError.badRequest("malformed JSON" + where + ": " + clip(e.getOriginalMessage()));
        } catch (IOException e) {
            throw ApiError.badRequest("unreadable body: " + e.getMessage());
        }
    }

    /** The body bytes, at most {@code server.max_body_bytes}. */
    byte[] rawBody() {
        long declared = ctx.req().getContentLengthLong();
        if (declared > maxBody) {
            throw tooLarge();
        }
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBody + 1));
            if (b.length > maxBody) {
                throw tooLarge();
            }
            return b;
        } catch (IOException e) {
            throw ApiError.badRequest("unreadable body: " + e.getMessage());
        }
    }

    private ApiError tooLarge() {
        return new ApiError(413, "bad_request", "request body exceeds server.max_body_bytes (" + maxBody + " bytes)");
    }

    private static long id(String name, String v, String kind) {
        if (v == null || !DIGITS.matcher(v).matches()) {
            throw ApiError.badRequest(kind + " " + name + " must be a non-negative integer, got '" + clip(v) + "'");
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw ApiError.badRequest(kind + " " + name + " is out of range: '" + clip(v) + "'");
        }
    }

    /** Echoed input is clipped so an error message never grows with the request. */
    static String clip(String s) {
        if (s == null) {
            return "null";
        }
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }
}
