package dev.roster.core.selection;

import dev.roster.core.Platforms;
import java.util.Collection;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What one request asks of {@link Selector#select} (docs/upstream.md U-SEL-1).
 *
 * @param groupId the API key's group, or {@code null} for none
 * @param platform the request's platform (well formed)
 * @param forcePlatform whether the route pins the platform
 * @param sessionKey the conversation's stickiness key (e.g. a hash of the session), or {@code null} for a
 *     request without a session; 1..256 characters, none of them a control character
 *     (decision SP5)
 * @param model the requested model ({@link #requireModel}), or {@code null} when any account will do;
 *     accounts cooling down for it ({@link Outcome.Kind#MODEL_UNSUPPORTED}) are skipped
 * @param excludedIds accounts the caller already tried for this request (failover retries): positive
 *     ids, at most {@value #MAX_EXCLUDED}
 * @param preferOAuth whether OAuth accounts win ties among never-used accounts (sub2api sets it for
 *     Gemini)
 * @param waitTicket the ticket of the {@link Selection.Wait} this request is retrying from, unchanged, or
 *     {@code null}; it is handed back before selecting again, so a waiting request is counted once, and
 *     any re-queue keeps its deadline. Only the request it was issued for (same group, platform, session
 *     key and model) may carry it ({@link InvalidWaitTicketException}, decision SP1)
 */
public record SelectRequest(
        @Nullable Long groupId,
        String platform,
        boolean forcePlatform,
        @Nullable String sessionKey,
        @Nullable String model,
        Set<Long> excludedIds,
        boolean preferOAuth,
        @Nullable WaitTicket waitTicket) {

    /** The longest session key accepted. */
    public static final int MAX_SESSION_KEY = 256;

    /** The most excluded ids accepted (a failover loop never tries that many accounts). */
    public static final int MAX_EXCLUDED = 1000;

    /** The longest model name accepted. */
    public static final int MAX_MODEL = 128;

    /**
     * The characters of a model name: letters, digits and {@code . _ : / @ + -} (enough for every
     * provider's ids, such as {@code us.anthropic.claude-3-7-sonnet-20250219-v1:0} or {@code
     * models/gemini-2.5-pro}); nothing that could end a key or a log field.
     */
    private static final Pattern MODEL = Pattern.compile("[A-Za-z0-9._:/@+-]+");

    public SelectRequest {
        if (groupId != null && groupId < 0) {
            throw new IllegalArgumentException("group must be >= 0, got " + groupId);
        }
        Platforms.require(platform);
        requireSessionKey(sessionKey);
        model = requireModel(model);
        excludedIds = requireExcluded(excludedIds);
    }

    /**
     * Checks a session key: {@code null} (no session) or 1..{@value #MAX_SESSION_KEY} characters without
     * control characters.
     *
     * @throws IllegalArgumentException naming the session key and what is wrong
     */
    public static void requireSessionKey(@Nullable String sessionKey) {
        if (sessionKey == null) {
            return;
        }
        if (sessionKey.isEmpty() || sessionKey.length() > MAX_SESSION_KEY) {
            throw new IllegalArgumentException(
                    "session key must be 1.." + MAX_SESSION_KEY + " characters, got " + sessionKey.length());
        }
        if (sessionKey.chars().anyMatch(SelectRequest::control)) {
            // A control character could end a log field or a key; no session hash carries one.
            throw new IllegalArgumentException("session key must not contain control characters");
        }
    }

    /**
     * Checks a model name: {@code null} or empty means none (returns {@code null}); otherwise 1..{@value
     * #MAX_MODEL} characters of {@code [A-Za-z0-9._:/@+-]}.
     *
     * @throws IllegalArgumentException naming the model and what is wrong
     */
    public static @Nullable String requireModel(@Nullable String model) {
        if (model == null || model.isEmpty()) {
            return null;
        }
        if (model.length() > MAX_MODEL) {
            throw new IllegalArgumentException(
                    "model must be at most " + MAX_MODEL + " characters, got " + model.length());
        }
        if (!MODEL.matcher(model).matches()) {
            throw new IllegalArgumentException("model must consist of letters, digits and . _ : / @ + -, got '"
                    + model.replaceAll("[^\\x20-\\x7e]", "?") + "'");
        }
        return model;
    }

    /**
     * Checks excluded ids: at most {@value #MAX_EXCLUDED}, each positive; {@code null} means none.
     *
     * @throws IllegalArgumentException naming the excluded ids and what is wrong
     */
    public static Set<Long> requireExcluded(@Nullable Collection<Long> ids) {
        if (ids == null) {
            return Set.of();
        }
        if (ids.size() > MAX_EXCLUDED) {
            throw new IllegalArgumentException(
                    "excluded ids must list at most " + MAX_EXCLUDED + " ids, got " + ids.size());
        }
        for (Long id : ids) {
            if (id == null || id <= 0) {
                throw new IllegalArgumentException("excluded ids must be positive account ids, got " + id);
            }
        }
        return Set.copyOf(ids);
    }

    /** Whether {@code c} is a control character (C0, DEL, C1, or a line or paragraph separator). */
    static boolean control(int c) {
        return Character.isISOControl(c) || c == 0x2028 || c == 0x2029;
    }

    /** A request for {@code platform} in {@code groupId} with nothing else set. */
    public static SelectRequest of(@Nullable Long groupId, String platform) {
        return new SelectRequest(groupId, platform, false, null, null, Set.of(), false, null);
    }

    /** A copy pinned to its platform or not. */
    public SelectRequest withForcePlatform(boolean v) {
        return new SelectRequest(groupId, platform, v, sessionKey, model, excludedIds, preferOAuth, waitTicket);
    }

    /** A copy with a session key. */
    public SelectRequest withSession(@Nullable String v) {
        return new SelectRequest(groupId, platform, forcePlatform, v, model, excludedIds, preferOAuth, waitTicket);
    }

    /** A copy for a model. */
    public SelectRequest withModel(@Nullable String v) {
        return new SelectRequest(groupId, platform, forcePlatform, sessionKey, v, excludedIds, preferOAuth, waitTicket);
    }

    /** A copy excluding accounts. */
    public SelectRequest withExcluded(Set<Long> v) {
        return new SelectRequest(groupId, platform, forcePlatform, sessionKey, model, v, preferOAuth, waitTicket);
    }

    /** A copy preferring OAuth accounts or not. */
    public SelectRequest withPreferOAuth(boolean v) {
        return new SelectRequest(groupId, platform, forcePlatform, sessionKey, model, excludedIds, v, waitTicket);
    }

    /** A copy retrying from a wait. */
    public SelectRequest withWaitTicket(WaitTicket v) {
        return new SelectRequest(groupId, platform, forcePlatform, sessionKey, model, excludedIds, preferOAuth, v);
    }
}
