package dev.roster.server.http;

import org.jspecify.annotations.Nullable;

/**
 * An error answer of the API: HTTP status, machine code ({@code bad_request},
 * {@code unauthorized}, {@code not_found}, {@code fallback_limited}, {@code not_ready},
 * {@code store_unavailable}, plus {@code overloaded}, {@code timeout}, {@code internal}) and a message
 * for people. Messages never carry secrets or stack traces.
 */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String code;

    /** An error with {@code status}, {@code code} and {@code message}. */
    public ApiError(int status, String code, @Nullable String message) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
    }

    /** 400 {@code bad_request}. */
    public static ApiError badRequest(@Nullable String message) {
        return new ApiError(400, "bad_request", message);
    }

    /** 404 {@code not_found}. */
    public static ApiError notFound(String message) {
        return new ApiError(404, "not_found", message);
    }

    /** The HTTP status. */
    public int status() {
        return status;
    }

    /** The machine-readable code. */
    public String code() {
        return code;
    }

    /** The JSON body: {@code {"error": code, "message": message}}. */
    public record Body(String error, @Nullable String message) {}
}
