package dev.roster.bench;

import dev.roster.core.AccountCard;
import dev.roster.core.GroupLink;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Realistic account data for the benchmarks: cards, and the seed's full account JSON documents. */
final class BenchData {
    static final Instant T0 = Instant.parse("2026-03-01T12:00:00.123456Z");

    private BenchData() {}

    static List<AccountCard> cards(int n) {
        List<AccountCard> out = new ArrayList<>(n);
        for (int i = 1; i <= n; i++) {
            out.add(AccountCard.builder()
                    .id(1000 + i)
                    .name("claude-max-pool-account-" + i)
                    .platform("anthropic")
                    .type(i % 3 == 0 ? "apikey" : "oauth")
                    .status("active")
                    .schedulable(true)
                    .priority(i % 10)
                    .concurrency(3)
                    .expiresAt(T0.plusSeconds(86_400L * 30))
                    .autoPauseOnExpired(true)
                    .supportedModels(List.of("claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"))
                    .groups(List.of(new GroupLink(7, i % 5), new GroupLink(12, 1)))
                    .updatedAt(T0.minusSeconds(i))
                    .build());
        }
        return List.copyOf(out);
    }

    /**
     * The seed's account document: every account column, credentials included (the seed wrote the
     * whole account), with tokens of the size OAuth providers issue.
     */
    static Map<String, Object> seedDocument(AccountCard c) {
        Map<String, Object> creds = new LinkedHashMap<>();
        creds.put("access_token", "sk-ant-oat01-" + "x".repeat(96));
        creds.put("refresh_token", "sk-ant-ort01-" + "y".repeat(96));
        creds.put("expires_at", "2026-03-02T12:00:00Z");
        creds.put("scope", "user:inference user:profile");
        Map<String, String> mapping = new LinkedHashMap<>();
        for (String m : c.supportedModels()) {
            mapping.put(m, m + "-20250929");
        }
        creds.put("model_mapping", mapping);
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("mixed_scheduling", c.mixedScheduling());
        extra.put("org_uuid", "0b6c4f0e-1f5e-4d7e-9a43-2a9f0c3d1e55");
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("id", c.id());
        d.put("name", c.name());
        d.put("notes", null);
        d.put("platform", c.platform());
        d.put("type", c.type());
        d.put("credentials", creds);
        d.put("extra", extra);
        d.put("proxy_id", null);
        d.put("concurrency", c.concurrency());
        d.put("priority", c.priority());
        d.put("rate_multiplier", 1.0);
        d.put("status", c.status());
        d.put("error_message", "");
        d.put("last_used_at", null);
        d.put("expires_at", c.expiresAt() == null ? null : c.expiresAt().toString());
        d.put("auto_pause_on_expired", c.autoPauseOnExpired());
        d.put("created_at", T0.minusSeconds(86_400).toString());
        d.put("updated_at", c.updatedAt().toString());
        d.put("schedulable", c.schedulable());
        d.put("rate_limited_at", null);
        d.put("rate_limit_reset_at", null);
        d.put("overload_until", null);
        d.put("temp_unschedulable_until", null);
        d.put("temp_unschedulable_reason", "");
        d.put("session_window_start", null);
        d.put("session_window_end", null);
        d.put("session_window_status", "");
        List<Map<String, Object>> groups = new ArrayList<>();
        for (GroupLink g : c.groups()) {
            groups.add(Map.of("account_id", c.id(), "group_id", g.groupId(), "priority", g.priority()));
        }
        d.put("account_groups", groups);
        d.put("group_ids", c.groups().stream().map(GroupLink::groupId).toList());
        return d;
    }
}
