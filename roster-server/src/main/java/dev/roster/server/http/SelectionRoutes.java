package dev.roster.server.http;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.roster.core.AccountCard;
import dev.roster.core.Platforms;
import dev.roster.core.selection.CooldownKind;
import dev.roster.core.selection.InvalidWaitTicketException;
import dev.roster.core.selection.Outcome;
import dev.roster.core.selection.QuotaUsage;
import dev.roster.core.selection.ReportResult;
import dev.roster.core.selection.SelectRequest;
import dev.roster.core.selection.Selection;
import dev.roster.core.selection.SlotLease;
import dev.roster.core.selection.UnknownAccountException;
import dev.roster.core.selection.WaitTicket;
import dev.roster.server.app.Backend;
import dev.roster.server.http.Route.Access;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Account selection over HTTP (decisions SEL13–SEL15): {@code POST /v1/select}, {@code
 * /v1/release}, {@code /v1/renew}, {@code /v1/report}. Same access rule as the read API ({@code
 * server.api_token} when set); the selection itself is the library's ({@code Roster.select}), so HTTP and
 * JVM gateways share slots, sticky bindings and cooldowns through Redis.
 *
 * <p>A wait ticket travels as one opaque string {@code <account_id>:<token>:<seal>} with its {@code
 * wait_until}; a retry passes both back unchanged with the same group, platform, session key and model.
 * The seal covers all of them (decision SP1): a made-up or altered ticket, or one of another request, is
 * 400 naming {@code wait_ticket} and gets no slot attempt; past {@code wait_until} the answer is {@code
 * none} with reason {@code wait_expired}. Leaving a queue needs only the place ({@code
 * <account_id>:<token>}, the seal is ignored).
 */
final class SelectionRoutes {

    private static final Pattern TICKET = Pattern.compile("([0-9]{1,19}):([0-9a-f]{32})(?::([0-9a-f]{32}))?");
    private static final int MAX_MESSAGE = Outcome.MAX_MESSAGE;
    /** The longest time-to-first-token accepted, a day ({@code SelectionStore.requireTtft}). */
    private static final long MAX_TTFT_MS = 86_400_000L;

    private final Supplier<Backend> backend;

    SelectionRoutes(Supplier<Backend> backend) {
        this.backend = backend;
    }

    void register(List<Route> routes) {
        routes.add(new Route(
                "POST",
                "/v1/select",
                Access.API,
                "Picks the account for one request and holds a concurrency slot on it: result acquired (lease;"
                        + " skipped lists the accounts tried first with why: saturated, cooling_down, rpm_full),"
                        + " wait (wait_ticket and wait_until; retry with both, unchanged, until wait_until) or none"
                        + " (reason, e.g. rpm_full when every remaining account used its rpm_limit, with until, or"
                        + " wait_expired once a retry comes after its wait_until)",
                List.of(),
                "{platform, group?, force?, session_key?, model?, excluded_ids?: [id], prefer_oauth?, wait_ticket?, wait_until?}",
                this::select));
        routes.add(new Route(
                "POST",
                "/v1/release",
                Access.API,
                "Frees a slot ({account_id, token}) or leaves a wait queue ({wait_ticket}); idempotent",
                List.of(),
                "{account_id, token} | {wait_ticket}",
                this::release));
        routes.add(new Route(
                "POST",
                "/v1/renew",
                Access.API,
                "Extends a held slot by selection.slot_lease_ttl (renewed false: it expired and may be reused)",
                List.of(),
                "{account_id, token}",
                this::renew));
        routes.add(new Route(
                "POST",
                "/v1/report",
                Access.API,
                "Records the upstream's answer for an account, by error class (status, or error_class:"
                        + " success, rate_limited, quota_exhausted, overloaded, unauthorized, forbidden,"
                        + " model_unsupported, other): 429 cools it until reset_at / retry_after_seconds (capped) or"
                        + " briefly, escalating; quota_exhausted until its window resets; 529/503 briefly, escalating;"
                        + " 401/402/403 cool it down or mark it error; model_unsupported cools that model on that"
                        + " account only; a success resets the escalation; deadlines only extend. ttft_ms (the"
                        + " call's time to first token, 0..86400000) and the outcome feed the account's health,"
                        + " which may pass a bound session over it for a request (selection.sticky.*). With any"
                        + " status, quota_5h_used_percent / quota_7d_used_percent (0..100) with quota_5h_reset_at /"
                        + " quota_7d_reset_at (RFC 3339 or epoch seconds; each percent needs its reset and the"
                        + " reverse) report the upstream's quota windows: select skips the account (quota_threshold)"
                        + " while a window is used at or past its threshold, until that window resets; a reset"
                        + " already past pauses nothing",
                List.of(),
                "{account_id, status? | error_class?, reset_at?, retry_after_seconds?, model?, message?, ttft_ms?,"
                        + " quota_5h_used_percent?, quota_5h_reset_at?, quota_7d_used_percent?, quota_7d_reset_at?}",
                this::report));
    }

    /** Whether {@code path} is one of these routes (their OpenAPI tag). */
    static boolean isSelection(String path) {
        return path.equals("/v1/select")
                || path.equals("/v1/release")
                || path.equals("/v1/renew")
                || path.equals("/v1/report");
    }

    // ---- request bodies ----------------------------------------------------------------------------

    /** {@code POST /v1/select}. Boxed types: every field but platform is optional. */
    record SelectBody(
            Long group,
            String platform,
            Boolean force,
            String sessionKey,
            String model,
            List<Long> excludedIds,
            Boolean preferOauth,
            String waitTicket,
            Instant waitUntil) {}

    /** {@code POST /v1/release} and {@code /v1/renew}. */
    record LeaseBody(Long accountId, String token, String waitTicket) {}

    /** {@code POST /v1/report}. */
    record ReportBody(
            Long accountId,
            Integer status,
            String errorClass,
            Instant resetAt,
            Long retryAfterSeconds,
            String model,
            String message,
            // A Number, not a Long: Jackson would otherwise truncate 1.5 to 1 instead of refusing it.
            Number ttftMs,
            // The digits keep their own word in the wire names (snake_case would give quota5h_...).
            @JsonProperty("quota_5h_used_percent") Double quota5hUsedPercent,
            @JsonProperty("quota_5h_reset_at") Instant quota5hResetAt,
            @JsonProperty("quota_7d_used_percent") Double quota7dUsedPercent,
            @JsonProperty("quota_7d_reset_at") Instant quota7dResetAt) {}

    // ---- answers ---------------------------------------------------------------------------------

    /** The slot of an acquired selection. */
    record Lease(long accountId, String token, Instant expiresAt) {}

    /** An account a select tried before the one it acquired, and why its store refused a slot. */
    record Skipped(long accountId, String reason) {}

    /** {@code result: acquired}. */
    record Acquired(
            String result, Dto.Card account, Lease lease, boolean sticky, String layer, List<Skipped> skipped) {}

    /** {@code result: wait}: queue on {@code account_id}, retry select with {@code wait_ticket}. */
    record Wait(
            String result,
            long accountId,
            String layer,
            boolean sticky,
            long timeoutMs,
            int maxWaiting,
            String waitTicket,
            Instant waitUntil) {}

    /** {@code result: none}. */
    record None(
            String result,
            String reason,
            String message,
            @Nullable Instant until) {}

    /** {@code POST /v1/release}. */
    record Released(boolean released) {}

    /** {@code POST /v1/renew}. */
    record Renewed(boolean renewed) {}

    /** {@code POST /v1/report}. */
    record Reported(
            long accountId,
            String action,
            @Nullable String kind,
            @Nullable Instant until,
            boolean persisted,
            @Nullable String model,
            int streak) {}

    // ---- handlers --------------------------------------------------------------------------------

    private Object select(Call call) {
        SelectBody in = call.body(SelectBody.class);
        SelectRequest request = request(in);
        Backend b = backend.get();
        Selection s;
        try {
            s = b.select(request, call.budget());
        } catch (InvalidWaitTicketException e) {
            throw ApiError.badRequest("field wait_ticket: " + e.getMessage());
        }
        return switch (s) {
            case Selection.Acquired a -> {
                AccountCard c = a.card();
                yield new Acquired(
                        "acquired",
                        Dto.Card.of(c, b.lastUsed(List.of(c.id())).get(c.id())),
                        new Lease(
                                a.lease().accountId(),
                                a.lease().token(),
                                a.lease().expiresAt()),
                        a.sticky(),
                        name(a.layer()),
                        a.skipped().entrySet().stream()
                                .map(e -> new Skipped(e.getKey(), name(e.getValue())))
                                .toList());
            }
            case Selection.Wait w ->
                new Wait(
                        "wait",
                        w.accountId(),
                        name(w.layer()),
                        w.sticky(),
                        w.timeout().toMillis(),
                        w.maxWaiting(),
                        w.ticket().accountId() + ":" + w.ticket().token() + ":"
                                + w.ticket().seal(),
                        w.ticket().expiresAt());
            case Selection.None n -> new None("none", name(n.reason()), n.detail(), n.until());
        };
    }

    private static SelectRequest request(SelectBody in) {
        if (in.platform() == null || in.platform().isEmpty()) {
            throw ApiError.badRequest("field platform is required");
        }
        if (!Platforms.isValid(in.platform())) {
            throw ApiError.badRequest(
                    "field platform must match [a-z][a-z0-9_-]{0,31}, got '" + Call.clip(in.platform()) + "'");
        }
        if (in.group() != null && in.group() < 0) {
            throw ApiError.badRequest("field group must be a non-negative integer, got " + in.group());
        }
        check("session_key", () -> SelectRequest.requireSessionKey(in.sessionKey()));
        String model = model(in.model());
        Set<Long> excluded = field("excluded_ids", () -> SelectRequest.requireExcluded(in.excludedIds()));
        WaitTicket ticket = null;
        if (in.waitTicket() != null) {
            WaitTicket place = ticket("wait_ticket", in.waitTicket());
            if (!place.sealed()) {
                throw ApiError.badRequest("field wait_ticket must be '<account_id>:<token>:<seal>' as returned by"
                        + " /v1/select, got '" + Call.clip(in.waitTicket()) + "'");
            }
            if (in.waitUntil() == null) {
                throw ApiError.badRequest(
                        "field wait_until is required with wait_ticket (the wait_until returned" + " with the ticket)");
            }
            ticket = new WaitTicket(place.accountId(), place.token(), in.waitUntil(), place.seal());
        } else if (in.waitUntil() != null) {
            throw ApiError.badRequest("field wait_until applies only with wait_ticket");
        }
        return new SelectRequest(
                in.group(),
                in.platform(),
                Boolean.TRUE.equals(in.force()),
                in.sessionKey(),
                model,
                excluded,
                Boolean.TRUE.equals(in.preferOauth()),
                ticket);
    }

    private Object release(Call call) {
        LeaseBody in = call.body(LeaseBody.class);
        Backend b = backend.get();
        if (in.waitTicket() != null) {
            if (in.accountId() != null || in.token() != null) {
                throw ApiError.badRequest("give either wait_ticket or account_id and token, not both");
            }
            return new Released(b.release(ticket("wait_ticket", in.waitTicket())));
        }
        long id = accountId(in.accountId());
        return new Released(b.release(id, token(in.token())));
    }

    private Object renew(Call call) {
        LeaseBody in = call.body(LeaseBody.class);
        if (in.waitTicket() != null) {
            throw ApiError.badRequest("field wait_ticket does not apply to renew (a wait ends at its timeout)");
        }
        long id = accountId(in.accountId());
        String token = token(in.token());
        Backend b = backend.get();
        // The store extends by the configured TTL from now; the lease's own expiry is not consulted.
        return new Renewed(b.renew(new SlotLease(id, token, b.now())));
    }

    private Object report(Call call) {
        ReportBody in = call.body(ReportBody.class);
        long id = accountId(in.accountId());
        Outcome.Kind explicit = null;
        if (in.errorClass() != null) {
            try {
                explicit = Outcome.Kind.parse(in.errorClass());
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest("field "
                        + Objects.requireNonNull(e.getMessage(), "Kind.parse names the value")
                                .replace("error class", "error_class"));
            }
        }
        if (in.status() == null && explicit == null) {
            throw ApiError.badRequest("field status is required (the upstream's HTTP status), or error_class");
        }
        if (in.status() != null && (in.status() < 100 || in.status() > 599)) {
            throw ApiError.badRequest("field status must be an HTTP status 100..599, got " + in.status());
        }
        if (in.resetAt() != null && in.retryAfterSeconds() != null) {
            throw ApiError.badRequest("give either reset_at or retry_after_seconds, not both");
        }
        if (in.retryAfterSeconds() != null
                && (in.retryAfterSeconds() < 0 || in.retryAfterSeconds() > 366L * 24 * 3600)) {
            throw ApiError.badRequest(
                    "field retry_after_seconds must be between 0 and 31622400, got " + in.retryAfterSeconds());
        }
        if (in.message() != null && in.message().length() > MAX_MESSAGE) {
            throw ApiError.badRequest("field message must be at most " + MAX_MESSAGE + " characters, got "
                    + in.message().length());
        }
        String model = model(in.model());
        if (explicit == Outcome.Kind.MODEL_UNSUPPORTED && model == null) {
            throw ApiError.badRequest("field model is required with error_class model_unsupported (the model refused)");
        }
        boolean timed = in.resetAt() != null || in.retryAfterSeconds() != null;
        Outcome.Kind kind = explicit != null
                ? explicit
                : Outcome.ofStatus(in.status(), null).kind();
        if (timed && kind != Outcome.Kind.RATE_LIMITED && kind != Outcome.Kind.QUOTA_EXHAUSTED) {
            throw ApiError.badRequest("field " + (in.resetAt() != null ? "reset_at" : "retry_after_seconds")
                    + " applies only to a 429 (rate_limited) or quota_exhausted, not to " + kind.wireName());
        }
        Backend b = backend.get();
        Instant now = b.now();
        check("reset_at", () -> Outcome.requireResetWithin(in.resetAt(), now));
        QuotaUsage quota = quota(in, now);
        Instant resetAt = in.retryAfterSeconds() != null ? now.plusSeconds(in.retryAfterSeconds()) : in.resetAt();
        Outcome o = new Outcome(kind, resetAt, in.message(), model).withQuota(quota);
        ReportResult r;
        try {
            r = b.report(id, o, ttft(in.ttftMs()));
        } catch (UnknownAccountException e) {
            throw ApiError.notFound("field account_id: " + e.getMessage());
        }
        CooldownKind k = r.kind();
        return new Reported(
                r.accountId(),
                name(r.action()),
                k == null ? null : name(k),
                r.until(),
                r.persisted(),
                r.model(),
                r.streak());
    }

    // ---- helpers ---------------------------------------------------------------------------------

    /**
     * The report's quota windows (decision SP4), checked by the core before anything is written: each
     * used-% needs its reset and the reverse, 0..100, a reset within the window's length (plus slack).
     */
    private static @Nullable QuotaUsage quota(ReportBody in, Instant now) {
        QuotaUsage q;
        try {
            q = QuotaUsage.report(
                    in.quota5hUsedPercent(), in.quota5hResetAt(), in.quota7dUsedPercent(), in.quota7dResetAt(), now);
        } catch (IllegalArgumentException e) {
            // The core's message starts with the field's wire name.
            throw ApiError.badRequest("field " + e.getMessage());
        }
        return q.isEmpty() ? null : q;
    }

    /** Runs a core check of one body field; its {@link IllegalArgumentException} becomes a 400 naming the field. */
    private static void check(String name, Runnable check) {
        field(name, () -> {
            check.run();
            return null;
        });
    }

    /** {@code check}'s value; its {@link IllegalArgumentException} becomes a 400 naming the field. */
    private static <T> T field(String name, java.util.function.Supplier<T> check) {
        try {
            return check.get();
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("field " + name + ": " + e.getMessage());
        }
    }

    private static long accountId(Long v) {
        if (v == null) {
            throw ApiError.badRequest("field account_id is required");
        }
        if (v <= 0) {
            throw ApiError.badRequest("field account_id must be a positive integer, got " + v);
        }
        return v;
    }

    /** {@code ttft_ms}: the call's time-to-first-token, a health sample (decision SP2-1); absent is unknown. */
    private static @Nullable Duration ttft(@Nullable Number ms) {
        if (ms == null) {
            return null;
        }
        boolean integral = ms instanceof Integer || ms instanceof Long || ms instanceof java.math.BigInteger;
        if (!integral
                || ms.longValue() < 0
                || ms.longValue() > MAX_TTFT_MS
                || !ms.toString().equals(Long.toString(ms.longValue()))) {
            throw ApiError.badRequest("field ttft_ms must be an integer between 0 and " + MAX_TTFT_MS
                    + " (milliseconds), got " + Call.clip(ms.toString()));
        }
        return Duration.ofMillis(ms.longValue());
    }

    private static @Nullable String model(@Nullable String v) {
        try {
            return SelectRequest.requireModel(v);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("field " + e.getMessage());
        }
    }

    private static String token(String v) {
        if (v == null) {
            throw ApiError.badRequest("field token is required (the lease token returned by /v1/select)");
        }
        if (!v.matches("[0-9a-f]{32}")) {
            throw ApiError.badRequest("field token must be 32 lower-case hex digits, got '" + Call.clip(v) + "'");
        }
        return v;
    }

    private static WaitTicket ticket(String field, String v) {
        Matcher m = TICKET.matcher(v);
        if (!m.matches()) {
            throw ApiError.badRequest("field " + field
                    + " must be '<account_id>:<token>:<seal>' as returned by /v1/select, got '" + Call.clip(v) + "'");
        }
        long id;
        try {
            id = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("field " + field + " names an account id out of range");
        }
        if (id <= 0) {
            throw ApiError.badRequest("field " + field + " names account id 0; ids are positive");
        }
        // The account and the token identify the queue place; select adds wait_until and checks the seal.
        return new WaitTicket(id, m.group(2), Instant.EPOCH, m.group(3) == null ? "" : m.group(3));
    }

    private static String name(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
