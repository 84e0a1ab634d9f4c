package dev.roster.server.http;

import dev.roster.server.app.Backend;
import dev.roster.server.app.BackendSource;
import dev.roster.server.http.Route.Access;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;

/** Health, metrics and the OpenAPI document: public, outside the concurrency cap. */
final class OpsRoutes {
    private final BackendSource source;
    private final Metrics metrics;
    private final Supplier<Object> openApi;

    OpsRoutes(BackendSource source, Metrics metrics, Supplier<Object> openApi) {
        this.source = source;
        this.metrics = metrics;
        this.openApi = openApi;
    }

    /** {@code /health/*} answers. */
    record Health(String status, String reason) {}

    void register(List<Route> routes) {
        routes.add(new Route(
                "GET",
                "/health/live",
                Access.PUBLIC,
                "The process is up (always 200 while it runs)",
                List.of(),
                null,
                c -> new Health("live", "")));
        routes.add(new Route(
                "GET",
                "/health/ready",
                Access.PUBLIC,
                "200 after the initial rebuild while the stores answer; 503 not_ready with the reason otherwise",
                List.of(),
                null,
                c -> {
                    Backend.Readiness r = source.readiness();
                    if (!r.ready()) {
                        throw new ApiError(503, "not_ready", "not ready: " + r.reason());
                    }
                    return new Health("ready", "");
                }));
        routes.add(new Route(
                "GET",
                "/metrics",
                Access.PUBLIC,
                "Prometheus metrics (text format)",
                List.of(),
                null,
                c -> new HttpServer.Raw(
                        "text/plain; version=0.0.4; charset=utf-8",
                        metrics.scrape().getBytes(StandardCharsets.UTF_8))));
        routes.add(new Route(
                "GET", "/openapi.json", Access.PUBLIC, "This API as OpenAPI 3.1", List.of(), null, c -> openApi.get()));
    }
}
