package dev.roster.postgres;

import dev.roster.core.AccountLimits;
import dev.roster.core.Platforms;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The editable fields of an account, as written by {@link AccountRepository#create} and {@link
 * AccountRepository#update}. Validated on construction with messages naming the field; the
 * database enforces the same rules for writers that bypass Roster.
 *
 * @param name display name, not blank
 * @param platform well-formed platform name
 * @param type account type ({@code oauth}, {@code apikey}, ...), not blank
 * @param status {@code active}, {@code error} or {@code disabled}
 * @param schedulable the admin switch
 * @param priority smaller is better, {@code >= 0}
 * @param concurrency slot limit, {@code >= 0}
 * @param credentials secrets and {@code model_mapping}; stored, never returned on cards
 * @param extra flags such as {@code mixed_scheduling}
 * @param expiresAt expiry, or {@code null}
 * @param autoPauseOnExpired whether expiry blocks scheduling
 * @param limits RPM cap, weight and quota thresholds ({@code null}: {@link AccountLimits#DEFAULTS})
 */
public record AccountSpec(
        String name,
        String platform,
        String type,
        String status,
        boolean schedulable,
        int priority,
        int concurrency,
        Map<String, ?> credentials,
        Map<String, ?> extra,
        @Nullable Instant expiresAt,
        boolean autoPauseOnExpired,
        AccountLimits limits) {

    /** Statuses an account may have. */
    public static final Set<String> STATUSES = Set.of("active", "error", "disabled");

    /** The status of a new account when none is given. */
    public static final String DEFAULT_STATUS = "active";

    /** The priority of a new account when none is given (smaller is better). */
    public static final int DEFAULT_PRIORITY = 50;

    /** The slot limit of a new account when none is given. */
    public static final int DEFAULT_CONCURRENCY = 3;

    public AccountSpec {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("account name must not be blank");
        }
        Platforms.require(platform);
        if (type == null || type.isBlank()) {
            throw new IllegalArgumentException("account type must not be blank");
        }
        if (!STATUSES.contains(status)) {
            throw new IllegalArgumentException(
                    "account status must be active, error or disabled, got '" + status + "'");
        }
        if (priority < 0) {
            throw new IllegalArgumentException("account priority must not be negative, got " + priority);
        }
        if (concurrency < 0) {
            throw new IllegalArgumentException("account concurrency must not be negative, got " + concurrency);
        }
        credentials = credentials == null ? Map.of() : credentials;
        extra = extra == null ? Map.of() : extra;
        Object mapping = credentials.get("model_mapping");
        if (mapping != null && !(mapping instanceof Map)) {
            throw new IllegalArgumentException("credentials.model_mapping must be an object");
        }
        limits = limits == null ? AccountLimits.DEFAULTS : limits;
    }

    /** A spec with {@link AccountLimits#DEFAULTS}. */
    public AccountSpec(
            String name,
            String platform,
            String type,
            String status,
            boolean schedulable,
            int priority,
            int concurrency,
            Map<String, ?> credentials,
            Map<String, ?> extra,
            @Nullable Instant expiresAt,
            boolean autoPauseOnExpired) {
        this(
                name,
                platform,
                type,
                status,
                schedulable,
                priority,
                concurrency,
                credentials,
                extra,
                expiresAt,
                autoPauseOnExpired,
                AccountLimits.DEFAULTS);
    }

    /**
     * A new account with the defaults: {@link #DEFAULT_STATUS}, schedulable, {@link #DEFAULT_PRIORITY},
     * {@link #DEFAULT_CONCURRENCY}, no credentials, no extra flags, no expiry.
     */
    public static AccountSpec of(String name, String platform, String type) {
        return new AccountSpec(
                name,
                platform,
                type,
                DEFAULT_STATUS,
                true,
                DEFAULT_PRIORITY,
                DEFAULT_CONCURRENCY,
                Map.of(),
                Map.of(),
                null,
                false);
    }

    public AccountSpec withStatus(String v) {
        return new AccountSpec(
                name,
                platform,
                type,
                v,
                schedulable,
                priority,
                concurrency,
                credentials,
                extra,
                expiresAt,
                autoPauseOnExpired,
                limits);
    }

    public AccountSpec withSchedulable(boolean v) {
        return new AccountSpec(
                name,
                platform,
                type,
                status,
                v,
                priority,
                concurrency,
                credentials,
                extra,
                expiresAt,
                autoPauseOnExpired,
                limits);
    }

    public AccountSpec withPriority(int v) {
        return new AccountSpec(
                name,
                platform,
                type,
                status,
                schedulable,
                v,
                concurrency,
                credentials,
                extra,
                expiresAt,
                autoPauseOnExpired,
                limits);
    }

    public AccountSpec withConcurrency(int v) {
        return new AccountSpec(
                name,
                platform,
                type,
                status,
                schedulable,
                priority,
                v,
                credentials,
                extra,
                expiresAt,
                autoPauseOnExpired,
                limits);
    }

    public AccountSpec withCredentials(Map<String, ?> v) {
        return new AccountSpec(
                name,
                platform,
                type,
                status,
                schedulable,
                priority,
                concurrency,
                v,
                extra,
                expiresAt,
                autoPauseOnExpired,
                limits);
    }

    public AccountSpec withExtra(Map<String, ?> v) {
        return new AccountSpec(
                name,
                platform,
                type,
                status,
                schedulable,
                priority,
                concurrency,
                credentials,
                v,
                expiresAt,
                autoPauseOnExpired,
                limits);
    }

    public AccountSpec withExpiry(Instant at, boolean autoPause) {
        return new AccountSpec(
                name,
                platform,
                type,
                status,
                schedulable,
                priority,
                concurrency,
                credentials,
                extra,
                at,
                autoPause,
                limits);
    }

    public AccountSpec withLimits(AccountLimits v) {
        return new AccountSpec(
                name,
                platform,
                type,
                status,
                schedulable,
                priority,
                concurrency,
                credentials,
                extra,
                expiresAt,
                autoPauseOnExpired,
                v);
    }

    @Override
    public String toString() {
        // Credentials stay out of logs and exception messages.
        return "AccountSpec[name=" + name + ", platform=" + platform + ", type=" + type + ", status=" + status
                + ", schedulable=" + schedulable + ", priority=" + priority + ", concurrency=" + concurrency
                + ", credentials=<" + credentials.size() + " keys>, extra=" + Objects.toString(extra.keySet())
                + ", expiresAt=" + expiresAt + ", autoPauseOnExpired=" + autoPauseOnExpired + ", limits=" + limits
                + "]";
    }
}
