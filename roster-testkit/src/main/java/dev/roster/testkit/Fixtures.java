package dev.roster.testkit;

import dev.roster.core.AccountCard;
import dev.roster.core.GroupLink;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Test data: account cards with every field set, and account rows as the database holds them. */
public final class Fixtures {
    /** A fixed instant fixtures are built around. */
    public static final Instant T0 = Instant.parse("2026-03-01T12:00:00.123456Z");

    private Fixtures() {}

    /**
     * A card with every field populated (instants with microseconds, as PostgreSQL stores them), in
     * group 7 with link priority {@code id % 5}.
     */
    public static AccountCard card(long id) {
        return AccountCard.builder()
                .id(id)
                .name("account-" + id + " ünïcode")
                .platform("anthropic")
                .type(id % 2 == 0 ? "oauth" : "apikey")
                .status("active")
                .schedulable(true)
                .priority((int) (id % 10))
                .concurrency(5)
                .rateLimitResetAt(id % 3 == 0 ? T0.plusSeconds(30) : null)
                .tempUnschedulableUntil(id % 4 == 0 ? T0.minusSeconds(10) : null)
                .expiresAt(T0.plusSeconds(86_400))
                .autoPauseOnExpired(id % 2 == 0)
                .mixedScheduling(id % 5 == 0)
                .supportedModels(id % 2 == 0 ? List.of("claude-sonnet-4", "claude-opus-4") : List.of())
                .groups(List.of(new GroupLink(7, (int) (id % 5)), new GroupLink(9, 1)))
                .updatedAt(T0.minusSeconds(id))
                .build();
    }

    /** Cards {@code first .. first+count-1}. */
    public static List<AccountCard> cards(long first, int count) {
        List<AccountCard> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(card(first + i));
        }
        return List.copyOf(out);
    }

    /**
     * An account as the database holds it: its card fields plus a credentials object with secrets.
     * {@link #toCard()} derives the card the way the projection must: the only thing taken from
     * credentials is the key set of {@code model_mapping}.
     *
     * @param card the card fields
     * @param credentials the credentials JSON object (secrets included)
     */
    public record AccountRow(AccountCard card, Map<String, Object> credentials) {
        /** The card for this row; credentials contribute only {@code model_mapping}'s keys. */
        public AccountCard toCard() {
            Object mm = credentials.get("model_mapping");
            List<String> models = mm instanceof Map<?, ?> m
                    ? m.keySet().stream().map(String::valueOf).toList()
                    : List.of();
            return card.withSupportedModels(models);
        }
    }

    /**
     * An account row whose credentials hold {@code secret} as API key, access token and refresh token,
     * plus a model mapping.
     */
    public static AccountRow rowWithSecret(long id, String secret) {
        Map<String, Object> creds = new LinkedHashMap<>();
        creds.put("api_key", secret);
        creds.put("access_token", secret + "-access");
        creds.put("refresh_token", secret + "-refresh");
        creds.put("model_mapping", Map.of("claude-sonnet-4", "claude-sonnet-4-20250514"));
        return new AccountRow(card(id), creds);
    }
}
