package dev.roster.postgres;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.roster.core.Platforms;
import dev.roster.core.outbox.OutboxEvent;
import dev.roster.core.outbox.OutboxEvent.AccountBulkChanged;
import dev.roster.core.outbox.OutboxEvent.AccountChanged;
import dev.roster.core.outbox.OutboxEvent.AccountGroupsChanged;
import dev.roster.core.outbox.OutboxEvent.AccountLastUsed;
import dev.roster.core.outbox.OutboxEvent.FullRebuild;
import dev.roster.core.outbox.OutboxEvent.GroupChanged;
import dev.roster.core.outbox.OutboxEvent.Malformed;
import dev.roster.core.outbox.OutboxEvent.Unknown;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Decodes outbox rows into {@link OutboxEvent}s. Accepts Roster's own payloads and the upstream
 * shapes written by other writers (docs/upstream.md U-EVENTS). Never throws for a row's content: a
 * row that does not fit its type becomes {@link Malformed} with the reason.
 */
public final class OutboxEventDecoder {
    private final ObjectMapper mapper = new ObjectMapper();

    /** A decoder with a JSON mapper of its own. */
    public OutboxEventDecoder() {}

    /** A raw outbox row. {@code payload} is the jsonb text or {@code null}. */
    public record Row(
            long id,
            long txid,
            String eventType,
            @Nullable Long accountId,
            @Nullable Long groupId,
            String payload,
            Instant createdAt) {}

    /** Decodes one row. */
    public OutboxEvent decode(Row r) {
        try {
            return decodeOrThrow(r);
        } catch (Bad b) {
            return new Malformed(r.id(), r.txid(), r.createdAt(), r.eventType(), b.getMessage(), r.payload());
        }
    }

    private OutboxEvent decodeOrThrow(Row r) {
        String type = r.eventType();
        switch (type) {
            case OutboxEvent.ACCOUNT_CHANGED -> {
                if (r.accountId() == null) {
                    throw new Bad("account_changed has no account_id");
                }
                positive(r.accountId(), "account_id");
                JsonNode p = objectOrNull(r);
                return new AccountChanged(
                        r.id(), r.txid(), r.createdAt(), r.accountId(), ids(p, "group_ids", false), platforms(p));
            }
            case OutboxEvent.ACCOUNT_BULK_CHANGED -> {
                JsonNode p = objectOrNull(r);
                if (p == null) {
                    throw new Bad("account_bulk_changed needs a payload with account_ids");
                }
                return new AccountBulkChanged(
                        r.id(),
                        r.txid(),
                        r.createdAt(),
                        ids(p, "account_ids", true),
                        ids(p, "group_ids", false),
                        platforms(p));
            }
            case OutboxEvent.ACCOUNT_GROUPS_CHANGED -> {
                JsonNode p = objectOrNull(r);
                List<Long> accounts = new ArrayList<>(ids(p, "account_ids", false));
                if (r.accountId() != null) {
                    accounts.add(positive(r.accountId(), "account_id"));
                }
                if (accounts.isEmpty()) {
                    throw new Bad("account_groups_changed names no account (neither account_id nor account_ids)");
                }
                return new AccountGroupsChanged(r.id(), r.txid(), r.createdAt(), accounts, ids(p, "group_ids", false));
            }
            case OutboxEvent.GROUP_CHANGED -> {
                JsonNode p = objectOrNull(r);
                List<Long> groups = new ArrayList<>(ids(p, "group_ids", false));
                if (r.groupId() != null) {
                    groups.add(positive(r.groupId(), "group_id"));
                }
                if (groups.isEmpty()) {
                    throw new Bad("group_changed names no group (neither group_id nor group_ids)");
                }
                return new GroupChanged(r.id(), r.txid(), r.createdAt(), groups);
            }
            case OutboxEvent.FULL_REBUILD -> {
                JsonNode p = objectOrNull(r);
                JsonNode flag = p == null ? null : p.get("refresh_account_metadata");
                if (flag != null && !flag.isNull() && !flag.isBoolean()) {
                    throw new Bad("refresh_account_metadata must be a JSON boolean, got " + flag);
                }
                return new FullRebuild(r.id(), r.txid(), r.createdAt(), flag != null && flag.asBoolean(false));
            }
            case OutboxEvent.ACCOUNT_LAST_USED -> {
                JsonNode p = objectOrNull(r);
                JsonNode map = p == null ? null : p.get("last_used");
                if (map == null || !map.isObject()) {
                    throw new Bad("account_last_used needs a payload {\"last_used\":{\"<id>\":<unix seconds>}}");
                }
                Map<Long, Instant> out = new HashMap<>();
                for (Map.Entry<String, JsonNode> e : map.properties()) {
                    long accountId;
                    try {
                        accountId = Long.parseLong(e.getKey());
                    } catch (NumberFormatException nfe) {
                        throw new Bad("last_used key '" + e.getKey() + "' is not an account id");
                    }
                    positive(accountId, "last_used key");
                    JsonNode v = e.getValue();
                    if (!v.isNumber()) {
                        throw new Bad("last_used[" + e.getKey() + "] must be unix seconds, got " + v);
                    }
                    BigDecimal seconds = v.decimalValue();
                    out.put(
                            accountId,
                            Instant.ofEpochSecond(
                                    seconds.longValue(),
                                    seconds.remainder(BigDecimal.ONE)
                                            .movePointRight(9)
                                            .intValue()));
                }
                return new AccountLastUsed(r.id(), r.txid(), r.createdAt(), out);
            }
            default -> {
                return new Unknown(r.id(), r.txid(), r.createdAt(), type);
            }
        }
    }

    private @Nullable JsonNode objectOrNull(Row r) {
        if (r.payload() == null) {
            return null;
        }
        JsonNode n;
        try {
            n = mapper.readTree(r.payload());
        } catch (JacksonException e) {
            throw new Bad("payload is not JSON: " + e.getOriginalMessage());
        }
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isObject()) {
            throw new Bad("payload must be a JSON object, got "
                    + n.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
        }
        return n;
    }

    private static List<Long> ids(@Nullable JsonNode payload, String field, boolean required) {
        JsonNode a = payload == null ? null : payload.get(field);
        if (a == null || a.isNull()) {
            if (required) {
                throw new Bad(field + " is missing");
            }
            return List.of();
        }
        if (!a.isArray()) {
            throw new Bad(field + " must be an array of ids, got " + a);
        }
        List<Long> out = new ArrayList<>(a.size());
        for (JsonNode e : a) {
            if (!isWholeNumber(e)) {
                throw new Bad(field + " must hold integer ids, found " + e);
            }
            out.add(positive(e.longValue(), field));
        }
        return out;
    }

    /**
     * The optional {@code platforms} field (schema version 3 on): absent or null means the writer did
     * not say, which is not the same as an empty list.
     */
    private static @Nullable List<String> platforms(@Nullable JsonNode payload) {
        JsonNode a = payload == null ? null : payload.get("platforms");
        if (a == null || a.isNull()) {
            return null;
        }
        if (!a.isArray()) {
            throw new Bad("platforms must be an array of platform names, got " + a);
        }
        List<String> out = new ArrayList<>(a.size());
        for (JsonNode e : a) {
            if (!e.isTextual() || !Platforms.isValid(e.asText())) {
                throw new Bad("platforms must hold names matching [a-z][a-z0-9_-]{0,31}, found " + e);
            }
            out.add(e.asText());
        }
        return out;
    }

    private static boolean isWholeNumber(JsonNode e) {
        if (e.isIntegralNumber()) {
            return e.canConvertToLong();
        }
        if (e.isFloatingPointNumber()) {
            BigDecimal d = e.decimalValue();
            return d.stripTrailingZeros().scale() <= 0 && e.canConvertToLong();
        }
        return false;
    }

    private static long positive(long id, String field) {
        if (id <= 0) {
            throw new Bad(field + " must hold positive ids, found " + id);
        }
        return id;
    }

    /** A row that does not fit its type; never escapes {@link #decode}. */
    private static final class Bad extends RuntimeException {
        Bad(String message) {
            super(message, null, false, false);
        }
    }
}
