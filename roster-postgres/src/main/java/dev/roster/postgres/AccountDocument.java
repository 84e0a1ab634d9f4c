package dev.roster.postgres;

import dev.roster.core.AccountLimits;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The writable fields of an account as a JSON-shaped document (snake_case names, the admin API's body),
 * and the three ways a write reads one: a creation (omitted fields take the defaults of {@link
 * AccountSpec}), a replacement (every field must be present) and the result of a merge patch (a
 * removed field is refused unless {@code null} is a value it may hold). {@code credentials} is not a
 * field of the document: it is write-only and always merged into the stored object (see {@link
 * AccountAdmin}).
 */
final class AccountDocument {
    static final String CREDENTIALS = "credentials";
    static final String GROUPS = "groups";

    /** Every field of the document, in the order the API documents them. */
    static final List<String> FIELDS = List.of(
            "name",
            "platform",
            "type",
            "status",
            "schedulable",
            "priority",
            "concurrency",
            "extra",
            "expires_at",
            "auto_pause_on_expired",
            "rate_limit_reset_at",
            "overload_until",
            "temp_unschedulable_until",
            GROUPS,
            "rpm_limit",
            "weight",
            "quota_threshold_5h",
            "quota_threshold_7d");

    /** Fields a body may name: the document's and the write-only credentials. */
    static final Set<String> WRITABLE = writable();

    private static final Set<String> LINK_FIELDS = Set.of("id", "priority");

    /**
     * A parsed write: the account row and its links.
     *
     * @param spec the editable fields (credentials included)
     * @param blocks the time blocks
     * @param links the group links
     */
    record Write(AccountSpec spec, AccountStatements.Blocks blocks, List<AccountView.Link> links) {}

    private AccountDocument() {}

    private static Set<String> writable() {
        Set<String> s = new java.util.HashSet<>(FIELDS);
        s.add(CREDENTIALS);
        return Set.copyOf(s);
    }

    /** A new account: {@code name}, {@code platform} and {@code type} are required, the rest defaults. */
    static Write forCreate(Map<String, ?> body) {
        Fields.requireKnown(body, WRITABLE, "");
        Fields.requirePresent(body, List.of("name", "platform", "type"), "an account needs them");
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("status", AccountSpec.DEFAULT_STATUS);
        doc.put("schedulable", true);
        doc.put("priority", AccountSpec.DEFAULT_PRIORITY);
        doc.put("concurrency", AccountSpec.DEFAULT_CONCURRENCY);
        doc.put("auto_pause_on_expired", false);
        doc.put("weight", AccountLimits.DEFAULT_WEIGHT);
        body.forEach((k, v) -> {
            if (v != null || !doc.containsKey(k)) {
                doc.put(k, v);
            }
        });
        return parse(doc, Fields.objectOrEmpty(body, CREDENTIALS));
    }

    /**
     * A replacement: every field of the document must be present ({@code null} only where it is a value);
     * {@code credentials} is the already merged object.
     */
    static Write forReplace(Map<String, ?> body, Map<String, ?> credentials) {
        Fields.requireKnown(body, WRITABLE, "");
        Fields.requirePresent(body, FIELDS, "PUT replaces the whole account; PATCH changes only the fields it names");
        return parse(body, credentials);
    }

    /** The document after a merge patch, where a field may have been removed by {@code null}. */
    static Write forPatched(Map<String, ?> doc, Map<String, ?> credentials) {
        for (String f : List.of(
                "name",
                "platform",
                "type",
                "status",
                "schedulable",
                "priority",
                "concurrency",
                "auto_pause_on_expired",
                "weight")) {
            if (!doc.containsKey(f)) {
                throw new IllegalArgumentException("field " + f + " cannot be removed (null): give a value");
            }
        }
        return parse(doc, credentials);
    }

    /** The document of a stored account (for a merge patch), without credentials. */
    static Map<String, Object> of(AccountView a) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("name", a.name());
        doc.put("platform", a.platform());
        doc.put("type", a.type());
        doc.put("status", a.status());
        doc.put("schedulable", a.schedulable());
        doc.put("priority", a.priority());
        doc.put("concurrency", a.concurrency());
        doc.put("extra", a.extra());
        putIfSet(doc, "expires_at", a.expiresAt());
        doc.put("auto_pause_on_expired", a.autoPauseOnExpired());
        putIfSet(doc, "rate_limit_reset_at", a.rateLimitResetAt());
        putIfSet(doc, "overload_until", a.overloadUntil());
        putIfSet(doc, "temp_unschedulable_until", a.tempUnschedulableUntil());
        List<Object> links = new ArrayList<>();
        for (AccountView.Link l : a.groups()) {
            links.add(Map.of("id", l.id(), "priority", l.priority()));
        }
        doc.put(GROUPS, links);
        putIfSet(doc, "rpm_limit", a.rpmLimit());
        doc.put("weight", a.weight());
        putIfSet(doc, "quota_threshold_5h", a.quotaThreshold5h());
        putIfSet(doc, "quota_threshold_7d", a.quotaThreshold7d());
        return doc;
    }

    /** Links of a body: objects with a required {@code id} and an optional {@code priority}. */
    static List<AccountView.Link> links(List<?> in) {
        List<AccountView.Link> out = new ArrayList<>(in.size());
        for (Object o : in) {
            if (!(o instanceof Map<?, ?> m)) {
                throw new IllegalArgumentException("every group link must be an object {id, priority}");
            }
            @SuppressWarnings("unchecked")
            Map<String, ?> link = (Map<String, ?>) m;
            Fields.requireKnown(link, LINK_FIELDS, " in a group link");
            if (link.get("id") == null) {
                throw new IllegalArgumentException("every group link needs an id");
            }
            long id = Fields.longValue(link.get("id"), "groups[].id");
            Object p = link.get("priority");
            out.add(new AccountView.Link(
                    id, p == null ? AccountView.Link.DEFAULT_PRIORITY : Fields.integer(p, "groups[].priority")));
        }
        return out;
    }

    private static Write parse(Map<String, ?> doc, Map<String, ?> credentials) {
        AccountSpec spec = new AccountSpec(
                Fields.string(doc, "name"),
                Fields.string(doc, "platform"),
                Fields.string(doc, "type"),
                Fields.string(doc, "status"),
                Fields.bool(doc, "schedulable"),
                Fields.integer(doc, "priority"),
                Fields.integer(doc, "concurrency"),
                credentials,
                Fields.objectOrEmpty(doc, "extra"),
                Fields.instantOrNull(doc, "expires_at"),
                Fields.bool(doc, "auto_pause_on_expired"),
                limits(doc));
        AccountStatements.Blocks blocks = new AccountStatements.Blocks(
                Fields.instantOrNull(doc, "rate_limit_reset_at"),
                Fields.instantOrNull(doc, "overload_until"),
                Fields.instantOrNull(doc, "temp_unschedulable_until"));
        return new Write(spec, blocks, links(Fields.listOrEmpty(doc, GROUPS)));
    }

    /** The limits of a document: {@code rpm_limit} {@code null} is unlimited (0), the thresholds may be null. */
    private static AccountLimits limits(Map<String, ?> doc) {
        Integer rpm = Fields.integerOrNull(doc, "rpm_limit");
        return new AccountLimits(
                rpm == null ? 0 : rpm,
                Fields.integer(doc, "weight"),
                Fields.integerOrNull(doc, "quota_threshold_5h"),
                Fields.integerOrNull(doc, "quota_threshold_7d"));
    }

    private static void putIfSet(Map<String, Object> doc, String field, @Nullable Object value) {
        if (value != null) {
            doc.put(field, value);
        }
    }
}
