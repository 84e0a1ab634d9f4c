package dev.roster.postgres;

import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * JSON merge patch (RFC 7396) over the plain values a JSON parser gives ({@code Map}, {@code List},
 * strings, numbers, booleans, {@code null}): an object patch merges member by member, a {@code null}
 * member removes that member, anything else replaces the target whole (arrays included).
 */
final class MergePatch {
    private MergePatch() {}

    /** {@code patch} applied to {@code target}; neither is modified. */
    static Object apply(@Nullable Object target, Object patch) {
        if (!(patch instanceof Map<?, ?> p)) {
            return patch;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        if (target instanceof Map<?, ?> t) {
            t.forEach((k, v) -> out.put(String.valueOf(k), v));
        }
        p.forEach((k, v) -> {
            String key = String.valueOf(k);
            if (v == null) {
                out.remove(key);
            } else {
                out.put(key, apply(out.get(key), v));
            }
        });
        return out;
    }

    /** {@link #apply} for an object target and an object patch. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> applyToObject(Map<String, ?> target, Map<String, ?> patch) {
        return (Map<String, Object>) apply(target, patch);
    }
}
