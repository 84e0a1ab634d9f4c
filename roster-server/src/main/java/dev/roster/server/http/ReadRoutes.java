package dev.roster.server.http;

import dev.roster.core.AccountCard;
import dev.roster.core.Platforms;
import dev.roster.core.service.ListResult;
import dev.roster.server.app.Backend;
import dev.roster.server.http.Route.Access;
import dev.roster.server.http.Route.Param;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** The read API {@code /v1/*} (design §7); selection is {@link SelectionRoutes}. */
final class ReadRoutes {
    private final Supplier<Backend> backend;
    private final Metrics metrics;

    ReadRoutes(Supplier<Backend> backend, Metrics metrics) {
        this.backend = backend;
        this.metrics = metrics;
    }

    void register(List<Route> routes) {
        routes.add(new Route(
                "GET",
                "/v1/schedulable",
                Access.API,
                "The bucket's schedulable accounts now, in the order of the bucket query",
                List.of(
                        new Param("group", "integer", false, "group id >= 0 (default 0: no group)"),
                        new Param("platform", "string", true, "platform name, [a-z][a-z0-9_-]{0,31}"),
                        new Param("force", "boolean", false, "platform pinned by the route (default false)")),
                null,
                this::schedulable));
        routes.add(new Route(
                "GET",
                "/v1/accounts/{id}",
                Access.API,
                "One account's card (404 when unknown)",
                List.of(),
                null,
                this::account));
        routes.add(new Route(
                "POST",
                "/v1/accounts/{id}/used",
                Access.API,
                "Records that the account was just used (last-used only moves forward)",
                List.of(),
                null,
                this::used));
    }

    private Object schedulable(Call call) {
        Long group = call.queryId("group");
        String platform = call.queryRequired("platform");
        if (!Platforms.isValid(platform)) {
            throw ApiError.badRequest("platform must match [a-z][a-z0-9_-]{0,31}, got '" + Call.clip(platform) + "'");
        }
        boolean force = call.queryBool("force", false);
        Backend b = backend.get();
        ListResult r = b.list(group == null ? 0L : group, platform, force, call.budget());
        metrics.hit(r.source());
        List<Long> ids = r.accounts().stream().map(AccountCard::id).toList();
        Map<Long, Instant> lu = ids.isEmpty() ? Map.of() : b.lastUsed(ids);
        return new Dto.Schedulable(
                r.bucket().text(),
                r.generation(),
                r.version(),
                r.useMixed(),
                r.accounts().stream().map(c -> Dto.Card.of(c, lu.get(c.id()))).toList());
    }

    private Object account(Call call) {
        long id = call.positivePathId("id");
        Backend b = backend.get();
        AccountCard c =
                b.getAccount(id, call.budget()).orElseThrow(() -> ApiError.notFound("account " + id + " not found"));
        return Dto.Card.of(c, b.lastUsed(List.of(id)).get(id));
    }

    private Object used(Call call) {
        long id = call.positivePathId("id");
        Backend b = backend.get();
        if (b.getAccount(id, call.budget()).isEmpty()) {
            throw ApiError.notFound("account " + id + " not found");
        }
        Instant now = b.now();
        b.markUsed(id, now);
        return new Dto.Used(id, now);
    }
}
