package dev.roster.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.roster.core.AccountCard;
import dev.roster.core.Platforms;
import dev.roster.core.service.ListResult;
import dev.roster.server.app.Backend;
import dev.roster.server.http.Route.Access;
import dev.roster.server.http.Route.Param;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/** The read API {@code /v1/*}; selection is {@link SelectionRoutes}. */
final class ReadRoutes {
    /** The GET routes that answer {@code If-None-Match} and {@code Accept-Encoding: gzip} (for the OpenAPI document). */
    static final Set<String> CONDITIONAL = Set.of("/v1/schedulable", "/v1/accounts/{id}");

    private final Supplier<Backend> backend;
    private final Metrics metrics;
    private final SchedulableAnswers answers;

    ReadRoutes(Supplier<Backend> backend, Metrics metrics) {
        this.backend = backend;
        this.metrics = metrics;
        this.answers = new SchedulableAnswers(metrics::answerBuilt);
    }

    void register(List<Route> routes) {
        routes.add(new Route(
                "GET",
                "/v1/schedulable",
                Access.API,
                "The bucket's schedulable accounts now, in the order of the bucket query. Sent from cached bytes"
                        + " with an ETag (If-None-Match answers 304) and gzip on Accept-Encoding",
                List.of(
                        new Param("group", "integer", false, "group id >= 0 (default 0: no group)"),
                        new Param("platform", "string", true, "platform name, [a-z][a-z0-9_-]{0,31}"),
                        new Param("force", "boolean", false, "platform pinned by the route (default false)"),
                        new Param(
                                "view",
                                "string",
                                false,
                                "full (default): the cards; ids: only the account ids in order, as \"ids\""),
                        new Param(
                                "fields",
                                "string",
                                false,
                                "comma-separated card fields to write (the id always comes along); full view only"),
                        new Param(
                                "last_used",
                                "boolean",
                                false,
                                "true: each card carries last_used_at, read per request (no ETag); default false")),
                null,
                this::schedulable));
        routes.add(new Route(
                "GET",
                "/v1/accounts/{id}",
                Access.API,
                "One account's card with last_used_at (404 when unknown); ETag of its content, If-None-Match"
                        + " answers 304",
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

    private @Nullable Object schedulable(Call call) throws JsonProcessingException {
        Long group = call.queryId("group");
        String platform = call.queryRequired("platform");
        if (!Platforms.isValid(platform)) {
            throw ApiError.badRequest("platform must match [a-z][a-z0-9_-]{0,31}, got '" + Call.clip(platform) + "'");
        }
        boolean force = call.queryBool("force", false);
        CardShape shape = CardShape.of(call);
        Backend b = backend.get();
        ListResult r = b.list(group == null ? 0L : group, platform, force, call.budget());
        metrics.hit(r.source());
        EncodedAnswer a = answers.answer(r, shape, cards -> {
            List<Long> ids = cards.stream().map(AccountCard::id).toList();
            return ids.isEmpty() ? Map.of() : b.lastUsed(ids);
        });
        return ConditionalReply.send(call, a);
    }

    private @Nullable Object account(Call call) throws JsonProcessingException {
        long id = call.positivePathId("id");
        Backend b = backend.get();
        AccountCard c =
                b.getAccount(id, call.budget()).orElseThrow(() -> ApiError.notFound("account " + id + " not found"));
        byte[] json = Json.MAPPER.writeValueAsBytes(
                Dto.Card.of(c, b.lastUsed(List.of(id)).get(id)));
        return ConditionalReply.send(call, new EncodedAnswer(contentTag(json), json));
    }

    /**
     * A card's entity tag: a digest of its JSON (decision H4). A card is read alone from the projection,
     * without the (generation, version) of a snapshot, and carries last-used, which no version covers.
     */
    private static String contentTag(byte[] json) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(json);
            return "\"c." + HexFormat.of().formatHex(d, 0, 16) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
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
