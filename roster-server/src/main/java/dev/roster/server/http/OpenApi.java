package dev.roster.server.http;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code /openapi.json}, generated from the registered routes so it cannot drift from them.
 */
final class OpenApi {
    private static final Pattern PATH_PARAM = Pattern.compile("\\{([a-z_]+)}");

    private OpenApi() {}

    static Map<String, Object> document(List<Route> routes) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("openapi", "3.1.0");
        doc.put(
                "info",
                Map.of(
                        "title",
                        "Roster",
                        "version",
                        "1",
                        "description",
                        "Account-scheduling snapshots for AI API gateways. JSON fields are snake_case, instants"
                                + " RFC 3339 UTC, 64-bit numbers strings. Errors are {error, message}. TLS is"
                                + " terminated by a proxy in front."));
        Map<String, Object> paths = new LinkedHashMap<>();
        for (Route r : routes) {
            @SuppressWarnings("unchecked")
            Map<String, Object> item =
                    (Map<String, Object>) paths.computeIfAbsent(r.path(), p -> new LinkedHashMap<>());
            Map<String, Object> op = new LinkedHashMap<>();
            op.put("summary", r.summary());
            op.put("tags", List.of(tag(r)));
            List<Object> params = new ArrayList<>();
            Matcher m = PATH_PARAM.matcher(r.path());
            while (m.find()) {
                params.add(Map.of(
                        "name",
                        m.group(1),
                        "in",
                        "path",
                        "required",
                        true,
                        "schema",
                        Map.of("type", "string", "pattern", "^[0-9]{1,19}$")));
            }
            for (Route.Param p : r.query()) {
                params.add(Map.of(
                        "name",
                        p.name(),
                        "in",
                        "query",
                        "required",
                        p.required(),
                        "description",
                        p.description(),
                        "schema",
                        Map.of("type", p.type())));
            }
            if (r.access() == Route.Access.API) {
                params.add(Map.of(
                        "name",
                        "X-Roster-Deadline-Ms",
                        "in",
                        "header",
                        "required",
                        false,
                        "description",
                        "bounds the request's database fallback time (milliseconds)",
                        "schema",
                        Map.of("type", "integer", "minimum", 1)));
            }
            boolean conditional = r.method().equals("GET") && ReadRoutes.CONDITIONAL.contains(r.path());
            if (conditional) {
                params.add(Map.of(
                        "name",
                        "If-None-Match",
                        "in",
                        "header",
                        "required",
                        false,
                        "description",
                        "entity tags the client holds: 304 with no body when one is the answer's ETag",
                        "schema",
                        Map.of("type", "string")));
                params.add(Map.of(
                        "name",
                        "Accept-Encoding",
                        "in",
                        "header",
                        "required",
                        false,
                        "description",
                        "gzip: the answer's cached gzip copy (Content-Encoding: gzip, its own ETag)",
                        "schema",
                        Map.of("type", "string")));
            }
            if (!params.isEmpty()) {
                op.put("parameters", params);
            }
            if (r.requestBody() != null) {
                Map<String, Object> schema = Map.of("schema", Map.of("type", "object", "description", r.requestBody()));
                // A PATCH body is a JSON merge patch (RFC 7396); its own media type and plain JSON are both taken.
                Map<String, Object> content = r.method().equals("PATCH")
                        ? Map.of("application/merge-patch+json", schema, "application/json", schema)
                        : Map.of("application/json", schema);
                op.put("requestBody", Map.of("required", true, "content", content));
            }
            if (r.access() == Route.Access.API) {
                op.put("security", List.of(Map.of("apiToken", List.of())));
            } else if (r.access() == Route.Access.ADMIN) {
                op.put("security", List.of(Map.of("adminToken", List.of())));
            }
            Map<String, Object> responses = new LinkedHashMap<>();
            responses.put("200", Map.of("description", "success"));
            if (conditional) {
                responses.put(
                        "304",
                        Map.of("description", "not modified: the If-None-Match tag is the current answer's (no body)"));
            }
            Map<String, Object> err = Map.of("$ref", "#/components/responses/Error");
            if (r.access() != Route.Access.PUBLIC) {
                responses.put("400", err);
                responses.put("401", err);
                responses.put("404", err);
                responses.put("429", err);
            }
            responses.put("503", err);
            op.put("responses", responses);
            item.put(r.method().toLowerCase(java.util.Locale.ROOT), op);
        }
        doc.put("paths", paths);
        doc.put(
                "components",
                Map.of(
                        "securitySchemes",
                                Map.of(
                                        "apiToken",
                                                Map.of(
                                                        "type",
                                                        "http",
                                                        "scheme",
                                                        "bearer",
                                                        "description",
                                                        "server.api_token (only when set)"),
                                        "adminToken",
                                                Map.of(
                                                        "type",
                                                        "http",
                                                        "scheme",
                                                        "bearer",
                                                        "description",
                                                        "server.admin_token")),
                        "responses",
                                Map.of(
                                        "Error",
                                        Map.of(
                                                "description",
                                                "error",
                                                "content",
                                                Map.of(
                                                        "application/json",
                                                        Map.of(
                                                                "schema",
                                                                Map.of(
                                                                        "type", "object",
                                                                        "required", List.of("error", "message"),
                                                                        "properties",
                                                                                Map.of(
                                                                                        "error",
                                                                                                Map.of(
                                                                                                        "type",
                                                                                                        "string",
                                                                                                        "enum",
                                                                                                        List.of(
                                                                                                                "bad_request",
                                                                                                                "unauthorized",
                                                                                                                "not_found",
                                                                                                                "fallback_limited",
                                                                                                                "not_ready",
                                                                                                                "store_unavailable",
                                                                                                                "overloaded",
                                                                                                                "internal")),
                                                                                        "message",
                                                                                                Map.of(
                                                                                                        "type",
                                                                                                        "string")))))))));
        return doc;
    }

    private static String tag(Route r) {
        return switch (r.access()) {
            case API -> SelectionRoutes.isSelection(r.path()) ? "selection" : "read";
            case ADMIN -> "admin";
            case PUBLIC -> "operations";
        };
    }
}
