package dev.roster.server.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's own error answers (requests it rejects before any route sees them: illegal characters in
 * the request line or headers, ambiguous paths such as {@code /..}, oversize headers) in the API's
 * shape {@code {"error", "message"}} instead of Jetty's HTML page. Found by the hostile-input suite
 * ({@code HostileHttpIT}): clients of a JSON API must be able to parse every 4xx.
 */
final class JsonErrorHandler extends ErrorHandler {
    /** Jetty writes no body for errors of methods other than GET, POST and HEAD; the API answers them all. */
    @Override
    public boolean errorPageForMethod(String method) {
        return true;
    }

    @Override
    protected void generateResponse(
            Request request, Response response, int code, String message, Throwable cause, Callback callback) {
        // 505 (a request line without an HTTP/1 version) is the client's fault, like the 4xx ones.
        String error = code == 404 ? "not_found" : code >= 500 && code != 505 ? "internal" : "bad_request";
        String text = message == null || message.isBlank() ? "bad request (HTTP " + code + ")" : message;
        byte[] body;
        try {
            // Jetty's message names the protocol fault (never request data beyond a clipped echo).
            body = Json.MAPPER.writeValueAsBytes(new ApiError.Body(error, Call.clip(text)));
        } catch (Exception e) {
            body = ("{\"error\":\"" + error + "\",\"message\":\"HTTP " + code + "\"}").getBytes(StandardCharsets.UTF_8);
        }
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(true, ByteBuffer.wrap(body), callback);
    }
}
