package dev.roster.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.roster.core.AccountCard;
import dev.roster.core.Bucket;
import dev.roster.core.service.ListResult;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;
import org.jspecify.annotations.Nullable;

/**
 * The encoded answers of {@code GET /v1/schedulable} (decision H1): the JSON of a bucket's list in one
 * {@link CardShape} is built once per (generation, version, time window) and every later request for the
 * same answer gets the same bytes. An answer with last-used times, or without a publishable version (a
 * database answer of a retired bucket), is built per request and carries no entity tag.
 *
 * <p>Memory is bounded: at most {@value #MAX_ENTRIES} (bucket, shape) pairs are kept; past that, answers
 * are built per request (correct, only slower).
 *
 * <p>Thread-safe.
 */
final class SchedulableAnswers {
    static final int MAX_ENTRIES = 4096;

    private final ConcurrentHashMap<Key, Cached> cache = new ConcurrentHashMap<>();
    private final LongConsumer onBuild;

    /** @param onBuild told the size of every answer built (a metric: builds are what this class saves) */
    SchedulableAnswers(LongConsumer onBuild) {
        this.onBuild = Objects.requireNonNull(onBuild, "onBuild");
    }

    private record Key(Bucket bucket, CardShape shape) {}

    private record Cached(ListResult result, EncodedAnswer answer) {
        // The same result object first (the near cache hands back the one it built): identity on purpose.
        @SuppressWarnings("ReferenceEquality")
        boolean answers(ListResult r) {
            // The same result object (the near cache's reused answer) or the same snapshot and window.
            return r == result
                    || (r.version() == result.version()
                            && r.useMixed() == result.useMixed()
                            && r.generation().equals(result.generation())
                            && Objects.equals(r.validFrom(), result.validFrom())
                            && Objects.equals(r.validUntil(), result.validUntil()));
        }
    }

    /**
     * The encoded answer of {@code r} in {@code shape}.
     *
     * @param lastUsed last-used times of the listed accounts, read only when {@code shape.lastUsed()}
     */
    EncodedAnswer answer(ListResult r, CardShape shape, LastUsed lastUsed) throws JsonProcessingException {
        boolean versioned = r.version() > 0 && !r.generation().isEmpty();
        if (shape.lastUsed() || !versioned) {
            Map<Long, Instant> lu = shape.lastUsed() ? lastUsed.of(r.accounts()) : Map.of();
            return build(r, shape, lu, null);
        }
        Key k = new Key(r.bucket(), shape);
        Cached c = cache.get(k);
        if (c != null && c.answers(r)) {
            return c.answer();
        }
        EncodedAnswer built = build(r, shape, Map.of(), etag(r, shape));
        if (c != null || cache.size() < MAX_ENTRIES) {
            // A slower request may put an older answer back; the next request then sees it does not
            // answer its result and builds again: never served for the wrong snapshot, only built twice.
            cache.put(k, new Cached(r, built));
        }
        return built;
    }

    /** Where last-used times come from when a request asks for them. */
    @FunctionalInterface
    interface LastUsed {
        Map<Long, Instant> of(List<AccountCard> cards);
    }

    /**
     * The entity tag of an answer: generation, version, the start of its time window (exact to the
     * nanosecond, so two windows never share a tag) and the shape.
     */
    static String etag(ListResult r, CardShape shape) {
        Instant from = r.validFrom();
        String window = from == null ? "0" : from.getEpochSecond() + "_" + from.getNano();
        return "\"" + r.generation() + "." + r.version() + "." + window + shape.tag() + "\"";
    }

    private EncodedAnswer build(ListResult r, CardShape shape, Map<Long, Instant> lastUsed, @Nullable String etag)
            throws JsonProcessingException {
        byte[] json = shape.idsOnly()
                ? Json.MAPPER.writeValueAsBytes(new Dto.SchedulableIds(
                        r.bucket().text(),
                        r.generation(),
                        r.version(),
                        r.useMixed(),
                        r.accounts().stream().map(AccountCard::id).toList()))
                : Json.MAPPER.writeValueAsBytes(full(r, shape, lastUsed));
        onBuild.accept(json.length);
        return new EncodedAnswer(etag, json);
    }

    private static ObjectNode full(ListResult r, CardShape shape, Map<Long, Instant> lastUsed) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("bucket", r.bucket().text());
        root.put("generation", r.generation());
        root.put("version", Long.toString(r.version()));
        root.put("use_mixed", r.useMixed());
        ArrayNode cards = root.putArray("accounts");
        for (AccountCard c : r.accounts()) {
            ObjectNode card = Json.MAPPER.valueToTree(Dto.Card.of(c, lastUsed.get(c.id())));
            if (!shape.lastUsed()) {
                card.remove("last_used_at");
            }
            if (!shape.fields().isEmpty()) {
                List<String> drop = new ArrayList<>();
                card.fieldNames().forEachRemaining(n -> {
                    if (!shape.fields().contains(n) && !n.equals("last_used_at")) {
                        drop.add(n);
                    }
                });
                card.remove(drop);
            }
            cards.add(card);
        }
        return root;
    }
}
