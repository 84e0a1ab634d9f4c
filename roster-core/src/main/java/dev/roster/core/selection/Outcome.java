package dev.roster.core.selection;

import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What an upstream call answered, as {@link Selector#report} needs it: the error class decides the
 * cooldown (decisions CD1–CD3).
 *
 * @param kind the class of answer
 * @param resetAt for {@link Kind#RATE_LIMITED} and {@link Kind#QUOTA_EXHAUSTED}, the reset time the
 *     upstream announced (its reset header or {@code Retry-After}), or {@code null}
 * @param message a short text for the operator (kept with an error status), or {@code null}
 * @param model the model the request asked for ({@link SelectRequest#requireModel}): required for {@link
 *     Kind#MODEL_UNSUPPORTED}, optional for {@link Kind#SUCCESS} (it ends that model's failure streak too),
 *     ignored by the other kinds; {@code null} when none
 * @param quota the used-% of the quota windows the upstream reported with this answer, with any kind
 *     ({@link QuotaUsage#report} checks it), or {@code null}; stored per account and compared with the
 *     thresholds at every select (decision SP4)
 */
public record Outcome(
        Kind kind,
        @Nullable Instant resetAt,
        @Nullable String message,
        @Nullable String model,
        @Nullable QuotaUsage quota) {

    /** Classes of upstream answers and what each does to the account. */
    public enum Kind {
        /** Served: ends the account's failure streaks; no cooldown changes. */
        SUCCESS,
        /**
         * 429: rate-limited until the announced reset (capped), or for a short cooldown that escalates
         * with consecutive 429s when none was announced.
         */
        RATE_LIMITED,
        /** The usage quota is exhausted: rate-limited until its window resets (from the report, capped). */
        QUOTA_EXHAUSTED,
        /** 529, 503 or another overload answer: a short cooldown that escalates with consecutive ones. */
        OVERLOADED,
        /**
         * 401: for OAuth and setup-token accounts temporarily unschedulable (a token refresh may fix it);
         * for other accounts an error status, as sub2api does.
         */
        UNAUTHORIZED,
        /** 402/403: the upstream refuses the account: error status. */
        FORBIDDEN,
        /**
         * The account does not serve the requested model (a 400/404 "model not supported"): that model
         * cools down on that account only.
         */
        MODEL_UNSUPPORTED,
        /** Any other failure (5xx, network): no cooldown; the caller fails over with excluded ids. */
        OTHER;

        /** The wire name: the constant in lower case ({@code rate_limited}, {@code model_unsupported}, ...). */
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /**
         * The kind named {@code wire} ({@link #wireName()}).
         *
         * @throws IllegalArgumentException naming the value and the accepted names
         */
        public static Kind parse(String wire) {
            for (Kind k : values()) {
                if (k.wireName().equals(wire)) {
                    return k;
                }
            }
            StringBuilder names = new StringBuilder();
            for (Kind k : values()) {
                names.append(names.isEmpty() ? "" : ", ").append(k.wireName());
            }
            throw new IllegalArgumentException("error class must be one of " + names + ", got '" + wire + "'");
        }
    }

    /** The longest message accepted. */
    public static final int MAX_MESSAGE = 500;

    /** How far before now a reset time may lie: a later one is old news, an earlier one a bad clock or value. */
    public static final java.time.Duration MAX_RESET_PAST = java.time.Duration.ofDays(1);

    /** How far after now a reset time may lie (the longest quota window announced is a week; a year is absurd). */
    public static final java.time.Duration MAX_RESET_FUTURE = java.time.Duration.ofDays(366);

    /**
     * Checks an announced reset time against {@code now}: at most {@link #MAX_RESET_PAST} before and {@link
     * #MAX_RESET_FUTURE} after it, so a stale or hostile header neither locks an account for years nor
     * passes as "no reset" (decision SP5). {@code null} (none announced) passes.
     *
     * @throws IllegalArgumentException naming the reset time and the bounds
     */
    public static void requireResetWithin(@Nullable Instant resetAt, Instant now) {
        if (resetAt != null
                && (resetAt.isBefore(now.minus(MAX_RESET_PAST)) || resetAt.isAfter(now.plus(MAX_RESET_FUTURE)))) {
            throw new IllegalArgumentException("reset time must lie between " + MAX_RESET_PAST.toHours()
                    + "h before and " + MAX_RESET_FUTURE.toDays() + " days after now (" + now + "), got " + resetAt);
        }
    }

    public Outcome {
        Objects.requireNonNull(kind, "kind");
        if (resetAt != null && kind != Kind.RATE_LIMITED && kind != Kind.QUOTA_EXHAUSTED) {
            throw new IllegalArgumentException(
                    "resetAt applies only to RATE_LIMITED and QUOTA_EXHAUSTED, got it with " + kind);
        }
        if (message != null && message.length() > MAX_MESSAGE) {
            throw new IllegalArgumentException(
                    "message must be at most " + MAX_MESSAGE + " characters, got " + message.length());
        }
        model = SelectRequest.requireModel(model);
        if (kind == Kind.MODEL_UNSUPPORTED && model == null) {
            throw new IllegalArgumentException("model is required with MODEL_UNSUPPORTED (the model refused)");
        }
    }

    /** An outcome without quota report. */
    public Outcome(Kind kind, @Nullable Instant resetAt, @Nullable String message, @Nullable String model) {
        this(kind, resetAt, message, model, null);
    }

    /** An outcome without model. */
    public Outcome(Kind kind, @Nullable Instant resetAt, @Nullable String message) {
        this(kind, resetAt, message, null);
    }

    /** An outcome without reset time or message. */
    public static Outcome of(Kind kind) {
        return new Outcome(kind, null, null);
    }

    /** A 429 with the announced reset time ({@code null} when none was given). */
    public static Outcome rateLimited(@Nullable Instant resetAt) {
        return new Outcome(Kind.RATE_LIMITED, resetAt, null);
    }

    /** An exhausted quota whose window resets at {@code resetAt} ({@code null} when unknown). */
    public static Outcome quotaExhausted(@Nullable Instant resetAt) {
        return new Outcome(Kind.QUOTA_EXHAUSTED, resetAt, null);
    }

    /** The account refused {@code model} as one it does not serve. */
    public static Outcome modelUnsupported(String model) {
        return new Outcome(Kind.MODEL_UNSUPPORTED, null, null, model);
    }

    /** A copy naming the request's model. */
    public Outcome withModel(String v) {
        return new Outcome(kind, resetAt, message, v, quota);
    }

    /** A copy carrying the quota windows the upstream reported. */
    public Outcome withQuota(@Nullable QuotaUsage v) {
        return new Outcome(kind, resetAt, message, model, v);
    }

    /**
     * Classifies an HTTP status: 2xx success, 429 rate-limited, 529 and 503 overloaded, 401 unauthorized,
     * 402 and 403 forbidden, anything else other. A quota exhaustion or a refused model cannot be told
     * from the status alone: build those with {@link #quotaExhausted} and {@link #modelUnsupported}.
     *
     * @param resetAt the reset time of a 429, else ignored
     */
    public static Outcome ofStatus(int status, @Nullable Instant resetAt) {
        if (status >= 200 && status < 300) {
            return of(Kind.SUCCESS);
        }
        return switch (status) {
            case 429 -> rateLimited(resetAt);
            case 529, 503 -> of(Kind.OVERLOADED);
            case 401 -> of(Kind.UNAUTHORIZED);
            case 402, 403 -> of(Kind.FORBIDDEN);
            default -> of(Kind.OTHER);
        };
    }
}
