package dev.roster.server.http;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One API route with what {@code /openapi.json} says about it.
 *
 * @param method HTTP method
 * @param path Javalin path template ({@code /v1/accounts/{id}})
 * @param access who may call it
 * @param summary one line for the OpenAPI document
 * @param query query parameters: name, schema type, description
 * @param requestBody a JSON schema of the body, or {@code null}
 * @param handler the work
 */
record Route(
        String method,
        String path,
        Access access,
        String summary,
        List<Param> query,
        @Nullable String requestBody,
        Work handler) {

    /** Who may call a route. */
    enum Access {
        /** Anyone: health, metrics, the OpenAPI document. */
        PUBLIC,
        /** {@code /v1/*}: the bearer {@code server.api_token} when it is set. */
        API,
        /** {@code /admin/*}: always the bearer {@code server.admin_token}. */
        ADMIN
    }

    /**
     * A query parameter.
     *
     * @param name its name
     * @param type OpenAPI type ({@code integer}, {@code string}, {@code boolean})
     * @param required whether it must be present
     * @param description one line
     */
    record Param(String name, String type, boolean required, String description) {}

    /** A route's work: returns the JSON body (or {@code null} for 204), may throw {@link ApiError}. */
    @FunctionalInterface
    interface Work {
        @Nullable
        Object handle(Call call) throws Exception;
    }
}
