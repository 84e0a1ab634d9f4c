package dev.roster.postgres;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Typed reads of one field of a JSON-shaped document ({@code Map} of plain values, as a JSON parser or a
 * caller builds it). Every refusal is an {@link IllegalArgumentException} naming the field and the
 * expected kind of value; values are never echoed, since some fields hold secrets.
 */
final class Fields {
    private Fields() {}

    /** Refuses members whose names are not in {@code known}, naming the first one. */
    static void requireKnown(Map<String, ?> doc, Set<String> known, String where) {
        for (String k : doc.keySet()) {
            if (!known.contains(k)) {
                throw new IllegalArgumentException("unknown field '" + clip(k) + "'" + where);
            }
        }
    }

    /** Refuses a document that lacks any of {@code required}, naming every missing one. */
    static void requirePresent(Map<String, ?> doc, List<String> required, String why) {
        TreeSet<String> missing = new TreeSet<>();
        for (String f : required) {
            if (!doc.containsKey(f)) {
                missing.add(f);
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("missing field(s) " + String.join(", ", missing) + " (" + why + ")");
        }
    }

    static String string(Map<String, ?> doc, String field) {
        Object v = present(doc, field);
        if (v instanceof String s) {
            return s;
        }
        throw kind(field, "a string");
    }

    static boolean bool(Map<String, ?> doc, String field) {
        Object v = present(doc, field);
        if (v instanceof Boolean b) {
            return b;
        }
        if ("true".equals(v) || "false".equals(v)) {
            return Boolean.parseBoolean((String) v);
        }
        throw kind(field, "true or false");
    }

    static int integer(Map<String, ?> doc, String field) {
        return integer(present(doc, field), field);
    }

    static int integer(Object v, String field) {
        long n = longValue(v, field);
        if (n < Integer.MIN_VALUE || n > Integer.MAX_VALUE) {
            throw kind(field, "a 32-bit integer");
        }
        return (int) n;
    }

    /** A 32-bit integer, or {@code null} when the field is absent or {@code null}. */
    static @Nullable Integer integerOrNull(Map<String, ?> doc, String field) {
        Object v = doc.get(field);
        return v == null ? null : integer(v, field);
    }

    /** A 64-bit integer, written as a JSON number or as a string of digits (the API's id convention). */
    static long longValue(Object v, String field) {
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof BigInteger b && b.bitLength() < 64) {
            return b.longValue();
        }
        if (v instanceof BigDecimal d) {
            try {
                return d.longValueExact();
            } catch (ArithmeticException e) {
                throw kind(field, "an integer");
            }
        }
        if (v instanceof String s && s.matches("-?[0-9]{1,19}")) {
            try {
                return Long.parseLong(s);
            } catch (NumberFormatException e) {
                throw kind(field, "a 64-bit integer");
            }
        }
        throw kind(field, "an integer");
    }

    /** An instant (RFC 3339 text or an {@link Instant}), or {@code null}. */
    static @Nullable Instant instantOrNull(Map<String, ?> doc, String field) {
        Object v = doc.get(field);
        if (v == null || v instanceof Instant) {
            return (Instant) v;
        }
        if (v instanceof String s && s.length() <= 64) {
            try {
                return OffsetDateTime.parse(s).toInstant();
            } catch (DateTimeParseException e) {
                // falls through to the refusal below
            }
        }
        throw kind(field, "an RFC 3339 instant such as 2026-01-01T00:00:00Z, or null");
    }

    /** A JSON object, or an empty one for {@code null}. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> objectOrEmpty(Map<String, ?> doc, String field) {
        Object v = doc.get(field);
        if (v == null) {
            return Map.of();
        }
        if (v instanceof Map<?, ?> m) {
            for (Object k : m.keySet()) {
                if (!(k instanceof String)) {
                    throw kind(field, "a JSON object");
                }
            }
            return (Map<String, Object>) m;
        }
        throw kind(field, "a JSON object");
    }

    /** A JSON array, or an empty one for {@code null}. */
    static List<?> listOrEmpty(Map<String, ?> doc, String field) {
        Object v = doc.get(field);
        if (v == null) {
            return List.of();
        }
        if (v instanceof List<?> l) {
            return l;
        }
        throw kind(field, "a JSON array");
    }

    private static Object present(Map<String, ?> doc, String field) {
        Object v = doc.get(field);
        if (v == null) {
            throw new IllegalArgumentException("field " + field + " must not be null");
        }
        return v;
    }

    private static IllegalArgumentException kind(String field, String expected) {
        return new IllegalArgumentException("field " + field + " must be " + expected);
    }

    private static String clip(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
