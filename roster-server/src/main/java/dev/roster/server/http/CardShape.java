package dev.roster.server.http;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which part of each card a {@code /v1/schedulable} answer carries, from the query parameters {@code
 * view}, {@code fields} and {@code last_used} (decisions H1, H3): the full cards (the default), some of
 * their fields ({@code fields=priority,concurrency}; the id always comes along), or only the ids in
 * order ({@code view=ids}, for gateways that keep their own cards). Last-used times only with {@code
 * last_used=true}. Bad input is a 400 naming the parameter and the value.
 *
 * @param idsOnly {@code view=ids}
 * @param fields the card fields to write, in the card's order; empty for all of them
 * @param lastUsed whether each card carries {@code last_used_at} (read per request, never cached)
 */
record CardShape(boolean idsOnly, List<String> fields, boolean lastUsed) {
    /**
     * The JSON fields of a listed card, in the order they are written. New fields go at the end: a
     * field's position is its bit in {@link #tag()}, so appending keeps the tags of existing shapes.
     */
    static final List<String> CARD_FIELDS = List.of(
            "id",
            "name",
            "platform",
            "type",
            "status",
            "schedulable",
            "priority",
            "concurrency",
            "rate_limit_reset_at",
            "overload_until",
            "temp_unschedulable_until",
            "expires_at",
            "auto_pause_on_expired",
            "mixed_scheduling",
            "supported_models",
            "groups",
            "updated_at",
            "rpm_limit",
            "weight",
            "quota_threshold_5h",
            "quota_threshold_7d");

    /** The default: every field of every card, no last-used. */
    static final CardShape FULL = new CardShape(false, List.of(), false);

    CardShape {
        fields = List.copyOf(fields);
    }

    /** The shape a request asks for. */
    static CardShape of(Call call) {
        String view = call.ctx().queryParam("view");
        boolean ids;
        if (view == null || view.isEmpty() || view.equals("full")) {
            ids = false;
        } else if (view.equals("ids")) {
            ids = true;
        } else {
            throw ApiError.badRequest("query parameter view must be full or ids, got '" + Call.clip(view) + "'");
        }
        boolean lastUsed = call.queryBool("last_used", false);
        String f = call.ctx().queryParam("fields");
        List<String> fields = f == null || f.isEmpty() ? List.of() : fields(f);
        if (ids && !fields.isEmpty()) {
            throw ApiError.badRequest("query parameter fields cannot be combined with view=ids");
        }
        if (ids && lastUsed) {
            throw ApiError.badRequest("query parameter last_used cannot be combined with view=ids");
        }
        if (!ids && !lastUsed && fields.isEmpty()) {
            return FULL;
        }
        return new CardShape(ids, fields, lastUsed);
    }

    private static List<String> fields(String text) {
        Set<String> asked = new LinkedHashSet<>();
        for (String name : text.split(",", -1)) {
            String n = name.strip();
            if (n.isEmpty()) {
                throw ApiError.badRequest("query parameter fields has an empty name in '" + Call.clip(text) + "'");
            }
            if (!CARD_FIELDS.contains(n)) {
                throw ApiError.badRequest("query parameter fields: unknown field '" + Call.clip(n) + "' (known: "
                        + String.join(", ", CARD_FIELDS) + ")");
            }
            asked.add(n);
        }
        // Canonical order, so two spellings of one selection share one cached answer.
        List<String> out = new ArrayList<>();
        for (String n : CARD_FIELDS) {
            if (n.equals("id") || asked.contains(n)) {
                out.add(n);
            }
        }
        return out;
    }

    /**
     * A short text naming the shape inside an entity tag ({@code ""} for the default). Shapes with
     * last-used have no tag at all, so they need no name here.
     */
    String tag() {
        if (idsOnly) {
            return ".ids";
        }
        if (fields.isEmpty()) {
            return "";
        }
        long mask = 0;
        for (String n : fields) {
            mask |= 1L << CARD_FIELDS.indexOf(n);
        }
        return ".f" + Long.toHexString(mask);
    }
}
