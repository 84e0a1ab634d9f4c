package dev.roster.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.roster.core.projection.ProjectionException;
import dev.roster.core.service.CacheNotReadyException;
import dev.roster.core.service.FallbackLimitedException;
import dev.roster.core.service.FallbackTimeoutException;
import dev.roster.core.service.StoreUnavailableException;
import dev.roster.core.source.SourceException;
import dev.roster.server.app.Backend;
import dev.roster.server.app.BackendSource;
import dev.roster.server.config.RosterConfig;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API on Javalin: the read API, selection, the admin API, health, metrics and the OpenAPI
 * document. Every route goes through one wrapper that assigns a request id, bounds concurrency
 * (over {@code server.max_concurrent_requests} answers 503 {@code overloaded} at once), checks the
 * bearer token in constant time, maps every failure to {@code {"error", "message"}} and writes one log
 * line.
 */
public final class HttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("roster.http");
    private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private final RosterConfig.Server config;
    private final BackendSource source;
    private final Metrics metrics;
    private final Semaphore permits;
    private final byte @Nullable [] adminDigest;
    private final byte @Nullable [] apiDigest;
    private final List<Route> routes = new ArrayList<>();
    private final Javalin app;
    private final WatchRoutes watch;
    private volatile boolean draining;

    /** Builds (does not start) the server, with the watch stream's default limits. */
    public HttpServer(RosterConfig.Server config, BackendSource source, Metrics metrics) {
        this(config, source, metrics, WatchConfig.DEFAULTS);
    }

    /** Builds (does not start) the server. */
    public HttpServer(RosterConfig.Server config, BackendSource source, Metrics metrics, WatchConfig watchConfig) {
        this.config = Objects.requireNonNull(config, "config");
        this.source = Objects.requireNonNull(source, "source");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.permits = new Semaphore(config.maxConcurrentRequests());
        this.adminDigest = config.adminToken().isEmpty() ? null : sha256(config.adminToken());
        this.apiDigest = config.apiToken().isEmpty() ? null : sha256(config.apiToken());
        new ReadRoutes(this::backend, metrics).register(routes);
        new SelectionRoutes(this::backend).register(routes);
        this.watch = new WatchRoutes(this::backend, Objects.requireNonNull(watchConfig, "watchConfig"), metrics);
        watch.register(routes);
        if (config.adminEnabled()) {
            StatusRoutes status = new StatusRoutes(source, this::backend, metrics);
            new AdminRoutes(this::backend, status::audited).register(routes);
            status.register(routes);
        }
        new OpsRoutes(source, metrics, () -> OpenApi.document(routes)).register(routes);
        this.app = Javalin.create(c -> {
            c.startup.showJavalinBanner = false;
            c.startup.showOldJavalinVersionWarning = false;
            c.jetty.host = config.host();
            c.jetty.port = config.port();
            c.http.maxRequestSize = config.maxBodyBytes();
            c.http.prefer405over404 = true;
            c.router.ignoreTrailingSlashes = true;
            // Requests Jetty rejects itself (bad request line, headers, paths) still get {error, message}.
            c.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
            // One virtual thread per request: the semaphore, not a thread pool queue, bounds the work.
            c.concurrency.useVirtualThreads = true;
            for (Route r : routes) {
                io.javalin.http.Handler h = ctx -> handle(r, ctx);
                switch (r.method()) {
                    case "GET" -> c.routes.get(r.path(), h);
                    case "POST" -> c.routes.post(r.path(), h);
                    case "PUT" -> c.routes.put(r.path(), h);
                    case "PATCH" -> c.routes.patch(r.path(), h);
                    case "DELETE" -> c.routes.delete(r.path(), h);
                    default -> throw new IllegalStateException("method " + r.method());
                }
            }
            c.routes.error(404, ctx -> {
                if (ctx.attribute("roster.handled") == null) {
                    writeError(ctx, ApiError.notFound("no route " + ctx.method() + " " + Call.clip(ctx.path())));
                }
            });
            c.routes.error(405, ctx -> {
                if (ctx.attribute("roster.handled") == null) {
                    writeError(
                            ctx,
                            new ApiError(
                                    405,
                                    "bad_request",
                                    "method " + ctx.method() + " is not allowed on " + Call.clip(ctx.path())));
                }
            });
            c.routes.exception(Exception.class, (e, ctx) -> {
                LOG.error("event=unhandled path={} error={}", ctx.path(), e.toString(), e);
                writeError(ctx, new ApiError(500, "internal", "internal error"));
            });
        });
    }

    /** Starts listening; returns the bound port. */
    public int start() {
        app.start();
        return app.port();
    }

    /** The bound port. */
    public int port() {
        return app.port();
    }

    /** Watch streams open now. */
    int watchClients() {
        return watch.clients();
    }

    /** The registered routes (for the OpenAPI document and tests). */
    List<Route> routes() {
        return List.copyOf(routes);
    }

    /**
     * Graceful stop: new requests are refused with 503 while in-flight ones finish (up to {@code
     * grace}), then the listener closes.
     */
    public void stop(Duration grace) {
        draining = true;
        try {
            int all = config.maxConcurrentRequests();
            if (permits.tryAcquire(all, Math.max(0, grace.toMillis()), TimeUnit.MILLISECONDS)) {
                permits.release(all);
            } else {
                LOG.warn("event=shutdown in_flight={} note=grace period over", all - permits.availablePermits());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        watch.close();
        app.stop();
    }

    @Override
    public void close() {
        stop(config.shutdownTimeout());
    }

    private Backend backend() {
        Backend b = source.backend();
        if (b == null) {
            throw new ApiError(
                    503, "not_ready", "not ready: " + source.readiness().reason());
        }
        return b;
    }

    private void handle(Route r, Context ctx) {
        ctx.attribute("roster.handled", true);
        long t0 = System.nanoTime();
        String rid = ctx.header("X-Request-Id");
        if (rid == null || !REQUEST_ID.matcher(rid).matches()) {
            rid = UUID.randomUUID().toString();
        }
        ctx.header("X-Request-Id", rid);
        boolean exempt = r.access() == Route.Access.PUBLIC;
        boolean permit = exempt || permits.tryAcquire();
        String errorCode = null;
        try {
            if (!permit || (draining && !exempt)) {
                throw new ApiError(
                        503,
                        "overloaded",
                        draining
                                ? "shutting down"
                                : "too many concurrent requests (server.max_concurrent_requests = "
                                        + config.maxConcurrentRequests() + ")");
            }
            authorize(r.access(), ctx);
            Call call = new Call(ctx, config.maxBodyBytes(), budget(ctx));
            Object body = r.handler().handle(call);
            ctx.status(call.status());
            if (body instanceof Streaming stream) {
                stream.start();
            } else if (body instanceof Raw raw) {
                ctx.contentType(raw.contentType());
                ctx.result(raw.bytes());
            } else if (body != null) {
                ctx.contentType("application/json");
                ctx.result(Json.MAPPER.writeValueAsBytes(body));
            }
        } catch (Throwable e) {
            ApiError err = map(e, rid, r);
            errorCode = err.code();
            writeError(ctx, err);
        } finally {
            if (permit && !exempt) {
                permits.release();
            }
            long nanos = System.nanoTime() - t0;
            metrics.request(r.method(), r.path(), ctx.statusCode(), nanos);
            logLine(r, ctx, rid, nanos, errorCode);
        }
    }

    private void logLine(Route r, Context ctx, String rid, long nanos, @Nullable String errorCode) {
        int status = ctx.statusCode();
        // Successful hot-path, health and metrics calls are far too many for INFO; they log at DEBUG.
        boolean quiet = status < 400 && r.access() != Route.Access.ADMIN;
        if (quiet ? LOG.isDebugEnabled() : LOG.isInfoEnabled()) {
            String line = String.format(
                    "event=request request_id=%s method=%s route=%s status=%d ms=%.2f%s",
                    rid, r.method(), r.path(), status, nanos / 1e6, errorCode == null ? "" : " error=" + errorCode);
            if (quiet) {
                LOG.debug(line);
            } else if (status >= 500) {
                LOG.warn(line);
            } else {
                LOG.info(line);
            }
        }
    }

    private Duration budget(Context ctx) {
        Duration d = config.requestTimeout();
        String h = ctx.header("X-Roster-Deadline-Ms");
        if (h != null) {
            long ms;
            try {
                ms = Long.parseLong(h.strip());
            } catch (NumberFormatException e) {
                throw ApiError.badRequest(
                        "header X-Roster-Deadline-Ms must be a positive integer, got '" + Call.clip(h) + "'");
            }
            if (ms <= 0) {
                throw ApiError.badRequest("header X-Roster-Deadline-Ms must be a positive integer, got " + ms);
            }
            if (ms < d.toMillis()) {
                d = Duration.ofMillis(ms);
            }
        }
        return d;
    }

    private void authorize(Route.Access access, Context ctx) {
        byte[] expected = switch (access) {
            case PUBLIC -> null;
            case API -> apiDigest;
            case ADMIN -> adminDigest;
        };
        if (expected == null) {
            // An admin API without a token is only possible bound to loopback (checked at config time).
            return;
        }
        String h = ctx.header("Authorization");
        String token = h != null && h.regionMatches(true, 0, "Bearer ", 0, 7)
                ? h.substring(7).strip()
                : null;
        // Digests have a fixed length, so the comparison time does not depend on the token's length either.
        if (token == null || !MessageDigest.isEqual(expected, sha256(token))) {
            ctx.header("WWW-Authenticate", "Bearer realm=\"roster\"");
            metrics.authFailure(access.name().toLowerCase(java.util.Locale.ROOT));
            throw new ApiError(
                    401,
                    "unauthorized",
                    token == null
                            ? "missing bearer token (Authorization: Bearer <" + tokenKey(access) + ">)"
                            : "invalid bearer token");
        }
    }

    private static String tokenKey(Route.Access a) {
        return a == Route.Access.ADMIN ? "server.admin_token" : "server.api_token";
    }

    private ApiError map(Throwable e, String rid, Route r) {
        if (e instanceof ApiError a) {
            return a;
        }
        if (e instanceof FallbackLimitedException) {
            metrics.fallbackRejected();
            return new ApiError(429, "fallback_limited", e.getMessage());
        }
        if (e instanceof CacheNotReadyException) {
            return new ApiError(503, "not_ready", e.getMessage());
        }
        if (e instanceof FallbackTimeoutException) {
            return new ApiError(503, "store_unavailable", e.getMessage());
        }
        if (e instanceof StoreUnavailableException
                || e instanceof SourceException
                || e instanceof ProjectionException) {
            return new ApiError(503, "store_unavailable", e.getMessage());
        }
        if (e instanceof IllegalArgumentException) {
            return ApiError.badRequest(e.getMessage());
        }
        if (e instanceof JsonProcessingException) {
            LOG.error("event=serialisation request_id={} route={} error={}", rid, r.path(), e.toString(), e);
            return new ApiError(500, "internal", "internal error (request id " + rid + ")");
        }
        LOG.error("event=unhandled request_id={} route={} error={}", rid, r.path(), e.toString(), e);
        return new ApiError(500, "internal", "internal error (request id " + rid + ")");
    }

    private static void writeError(Context ctx, ApiError err) {
        ctx.status(err.status());
        if (err.status() == 429) {
            ctx.header("Retry-After", "1");
        } else if (err.status() == 503) {
            ctx.header("Retry-After", "1");
        }
        ctx.contentType("application/json");
        try {
            ctx.result(Json.MAPPER.writeValueAsBytes(new ApiError.Body(err.code(), err.getMessage())));
        } catch (JsonProcessingException impossible) {
            ctx.result("{\"error\":\"internal\",\"message\":\"internal error\"}");
        }
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A non-JSON answer (metrics text, HTML). */
    // Carries the bytes of one answer; never compared or hashed.
    @SuppressWarnings("ArrayRecordComponent")
    record Raw(String contentType, byte[] bytes) {}

    /**
     * An answer that goes on after the handler returns (the watch stream): started once the status is
     * set, it takes the response into asynchronous mode, so the request's permit is released and no
     * request thread is held while it streams (decision D14, W5).
     */
    @FunctionalInterface
    interface Streaming {
        void start();
    }
}
