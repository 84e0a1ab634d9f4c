package dev.roster.bench;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.roster.core.AccountCard;
import dev.roster.core.GroupLink;
import io.lettuce.core.KeyValue;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The seed's snapshot read (docs/upstream.md U-READ), re-implemented as the baseline arm: GET ready,
 * GET active, ZRANGE the versioned member set, MGET the account documents, MGET the last-used side
 * keys — five sequential round trips — then JSON-decode each document into a card.
 */
public final class SeedPattern {
    static final ObjectMapper JSON =
            new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final String bucket;

    public SeedPattern(String bucket) {
        this.bucket = bucket;
    }

    /** Writes the seed's layout for {@code cards}. */
    public void write(RedisCommands<byte[], byte[]> redis, List<AccountCard> cards) {
        redis.set(b("sched:ready:" + bucket), b("1"));
        redis.set(b("sched:active:" + bucket), b("1"));
        byte[] zkey = b("sched:" + bucket + ":v1");
        redis.del(zkey);
        for (int i = 0; i < cards.size(); i++) {
            AccountCard c = cards.get(i);
            redis.zadd(zkey, i, b(Long.toString(c.id())));
            try {
                redis.set(b("sched:acc:" + c.id()), JSON.writeValueAsBytes(BenchData.seedDocument(c)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            redis.set(b("sched:acc:last_used:" + c.id()), b(Long.toString(1_700_000_000_000L + i)));
        }
    }

    /** The read: null on a miss, as the seed. */
    public List<AccountCard> read(RedisCommands<byte[], byte[]> redis) throws IOException {
        byte[] ready = redis.get(b("sched:ready:" + bucket));
        if (ready == null || ready.length != 1 || ready[0] != '1') {
            return null;
        }
        byte[] active = redis.get(b("sched:active:" + bucket));
        if (active == null) {
            return null;
        }
        List<byte[]> ids = redis.zrange(b("sched:" + bucket + ":v" + s(active)), 0, -1);
        if (ids.isEmpty()) {
            return null;
        }
        byte[][] docKeys = new byte[ids.size()][];
        byte[][] luKeys = new byte[ids.size()][];
        for (int i = 0; i < ids.size(); i++) {
            docKeys[i] = b("sched:acc:" + s(ids.get(i)));
            luKeys[i] = b("sched:acc:last_used:" + s(ids.get(i)));
        }
        List<KeyValue<byte[], byte[]>> docs = redis.mget(docKeys);
        List<KeyValue<byte[], byte[]>> lastUsed = redis.mget(luKeys);
        List<AccountCard> out = new ArrayList<>(docs.size());
        for (int i = 0; i < docs.size(); i++) {
            if (!docs.get(i).hasValue()) {
                return null;
            }
            SeedAccount a = JSON.readValue(docs.get(i).getValue(), SeedAccount.class);
            if (lastUsed.get(i).hasValue()) {
                a.lastUsedMillis = Long.parseLong(s(lastUsed.get(i).getValue()));
            }
            out.add(a.toCard());
        }
        return out;
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    /** The part of the seed's account document that the card needs (Jackson binds by field). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    static final class SeedAccount {
        public long id;
        public String name;
        public String platform;
        public String type;
        public String status;
        public boolean schedulable;
        public int priority;
        public int concurrency;

        @JsonProperty("rate_limit_reset_at")
        public String rateLimitResetAt;

        @JsonProperty("overload_until")
        public String overloadUntil;

        @JsonProperty("temp_unschedulable_until")
        public String tempUnschedulableUntil;

        @JsonProperty("expires_at")
        public String expiresAt;

        @JsonProperty("auto_pause_on_expired")
        public boolean autoPauseOnExpired;

        @JsonProperty("updated_at")
        public String updatedAt;

        public Map<String, Object> credentials;
        public Map<String, Object> extra;

        @JsonProperty("account_groups")
        public List<Map<String, Object>> accountGroups;

        long lastUsedMillis;

        AccountCard toCard() {
            Object mm = credentials == null ? null : credentials.get("model_mapping");
            List<String> models = mm instanceof Map<?, ?> m
                    ? m.keySet().stream().map(String::valueOf).toList()
                    : List.of();
            List<GroupLink> groups = new ArrayList<>();
            if (accountGroups != null) {
                for (Map<String, Object> g : accountGroups) {
                    groups.add(new GroupLink(
                            ((Number) g.get("group_id")).longValue(), ((Number) g.get("priority")).intValue()));
                }
            }
            return AccountCard.builder()
                    .id(id)
                    .name(name)
                    .platform(platform)
                    .type(type)
                    .status(status)
                    .schedulable(schedulable)
                    .priority(priority)
                    .concurrency(concurrency)
                    .rateLimitResetAt(rateLimitResetAt == null ? null : Instant.parse(rateLimitResetAt))
                    .overloadUntil(overloadUntil == null ? null : Instant.parse(overloadUntil))
                    .tempUnschedulableUntil(
                            tempUnschedulableUntil == null ? null : Instant.parse(tempUnschedulableUntil))
                    .expiresAt(expiresAt == null ? null : Instant.parse(expiresAt))
                    .autoPauseOnExpired(autoPauseOnExpired)
                    .mixedScheduling(extra != null && Boolean.TRUE.equals(extra.get("mixed_scheduling")))
                    .supportedModels(models)
                    .groups(groups)
                    .updatedAt(updatedAt == null ? null : Instant.parse(updatedAt))
                    .build();
        }
    }
}
