package dev.roster.core.selection;

import java.time.Instant;
import java.util.Objects;

/**
 * What an upstream call answered, as {@link Selector#report} needs it.
 *
 * @param kind the class of answer
 * @param resetAt for {@link Kind#RATE_LIMITED}, the reset time the upstream announced, or {@code null}
 * @param message a short text for the operator (kept with an error status), or {@code null}
 */
public record Outcome(Kind kind, Instant resetAt, String message) {

    /** Classes of upstream answers and what each does to the account. */
    public enum Kind {
        /** Served: nothing changes. */
        SUCCESS,
        /** 429: rate-limited until the reset time (or the default cooldown). */
        RATE_LIMITED,
        /** 529 or overload: overloaded for {@code selection.overload_cooldown}. */
        OVERLOADED,
        /**
         * 401: for OAuth and setup-token accounts temporarily unschedulable (a token refresh may fix it);
         * for other accounts an error status, as sub2api does.
         */
        UNAUTHORIZED,
        /** 402/403: the upstream refuses the account: error status. */
        FORBIDDEN,
        /** Any other failure (5xx, network): no cooldown; the caller fails over with excluded ids. */
        OTHER
    }

    public Outcome {
        Objects.requireNonNull(kind, "kind");
        if (resetAt != null && kind != Kind.RATE_LIMITED) {
            throw new IllegalArgumentException("resetAt applies only to RATE_LIMITED, got it with " + kind);
        }
    }

    /** An outcome without reset time or message. */
    public static Outcome of(Kind kind) {
        return new Outcome(kind, null, null);
    }

    /** A 429 with the announced reset time ({@code null} when none was given). */
    public static Outcome rateLimited(Instant resetAt) {
        return new Outcome(Kind.RATE_LIMITED, resetAt, null);
    }

    /**
     * Classifies an HTTP status: 2xx success, 429 rate-limited, 529 overloaded, 401 unauthorized, 402 and
     * 403 forbidden, anything else other.
     *
     * @param resetAt the reset time of a 429, else ignored
     */
    public static Outcome ofStatus(int status, Instant resetAt) {
        if (status >= 200 && status < 300) {
            return of(Kind.SUCCESS);
        }
        return switch (status) {
            case 429 -> rateLimited(resetAt);
            case 529 -> of(Kind.OVERLOADED);
            case 401 -> of(Kind.UNAUTHORIZED);
            case 402, 403 -> of(Kind.FORBIDDEN);
            default -> of(Kind.OTHER);
        };
    }
}
