package dev.roster.core;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The scheduling view of one account (docs/architecture.md, "Buckets and cards"): every field a selection rule reads,
 * and never a credential. {@code supportedModels} holds the keys of {@code credentials.model_mapping} (empty
 * means every model). Last-used is deliberately not part of the card: it changes on every request
 * and is kept beside it. {@code limits} holds the RPM cap, weight and quota thresholds (decision S1 under
 * "One-round-trip selection and new card fields"); the constructor without it gives {@link
 * AccountLimits#DEFAULTS}.
 */
public record AccountCard(
        long id,
        String name,
        String platform,
        String type,
        String status,
        boolean schedulable,
        int priority,
        int concurrency,
        @Nullable Instant rateLimitResetAt,
        @Nullable Instant overloadUntil,
        @Nullable Instant tempUnschedulableUntil,
        @Nullable Instant expiresAt,
        boolean autoPauseOnExpired,
        boolean mixedScheduling,
        List<String> supportedModels,
        List<GroupLink> groups,
        @Nullable Instant updatedAt,
        AccountLimits limits) {

    public AccountCard {
        Objects.requireNonNull(name, "name");
        limits = limits == null ? AccountLimits.DEFAULTS : limits;
        Objects.requireNonNull(platform, "platform");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(status, "status");
        supportedModels = List.copyOf(supportedModels == null ? List.of() : supportedModels);
        groups = List.copyOf(groups == null ? List.of() : groups);
    }

    /** A card with {@link AccountLimits#DEFAULTS}: every field before the limits. */
    public AccountCard(
            long id,
            String name,
            String platform,
            String type,
            String status,
            boolean schedulable,
            int priority,
            int concurrency,
            @Nullable Instant rateLimitResetAt,
            @Nullable Instant overloadUntil,
            @Nullable Instant tempUnschedulableUntil,
            @Nullable Instant expiresAt,
            boolean autoPauseOnExpired,
            boolean mixedScheduling,
            @Nullable List<String> supportedModels,
            @Nullable List<GroupLink> groups,
            @Nullable Instant updatedAt) {
        this(
                id,
                name,
                platform,
                type,
                status,
                schedulable,
                priority,
                concurrency,
                rateLimitResetAt,
                overloadUntil,
                tempUnschedulableUntil,
                expiresAt,
                autoPauseOnExpired,
                mixedScheduling,
                supportedModels == null ? List.of() : supportedModels,
                groups == null ? List.of() : groups,
                updatedAt,
                AccountLimits.DEFAULTS);
    }

    /** Requests per sliding 60 s window, {@code 0} for unlimited. */
    public int rpmLimit() {
        return limits.rpmLimit();
    }

    /** Share of load within the account's priority tier (1 unless set). */
    public int weight() {
        return limits.weight();
    }

    /** Used-% threshold of the 5-hour window, or {@code null} for the configured default. */
    public @Nullable Integer quotaThreshold5h() {
        return limits.quotaThreshold5h();
    }

    /** Used-% threshold of the 7-day window, or {@code null} for the configured default. */
    public @Nullable Integer quotaThreshold7d() {
        return limits.quotaThreshold7d();
    }

    /** This card with other limits. */
    public AccountCard withLimits(AccountLimits v) {
        return toBuilder().limits(v).build();
    }

    /** This card with another {@code updatedAt} (the audit ignores that field). */
    public AccountCard withUpdatedAt(@Nullable Instant at) {
        return toBuilder().updatedAt(at).build();
    }

    /** This card with another list of supported models. */
    public AccountCard withSupportedModels(List<String> models) {
        return toBuilder().supportedModels(models).build();
    }

    /**
     * A builder with nothing set: numbers 0, flags false, instants and strings {@code null}, lists
     * empty, limits {@link AccountLimits#DEFAULTS}. {@code name}, {@code platform}, {@code type} and {@code status} must be set before {@link
     * Builder#build()}.
     */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this AccountCard's values, to change a few of them. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * Builds an {@link AccountCard} field by field, so a caller that sets or changes a few fields does
     * not spell the other ones. Not thread-safe.
     */
    public static final class Builder {
        private long id;
        private @Nullable String name;
        private @Nullable String platform;
        private @Nullable String type;
        private @Nullable String status;
        private boolean schedulable;
        private int priority;
        private int concurrency;
        private @Nullable Instant rateLimitResetAt;
        private @Nullable Instant overloadUntil;
        private @Nullable Instant tempUnschedulableUntil;
        private @Nullable Instant expiresAt;
        private boolean autoPauseOnExpired;
        private boolean mixedScheduling;
        private @Nullable List<String> supportedModels;
        private @Nullable List<GroupLink> groups;
        private @Nullable Instant updatedAt;
        private AccountLimits limits = AccountLimits.DEFAULTS;

        private Builder() {}

        private Builder(AccountCard from) {
            this.id = from.id();
            this.name = from.name();
            this.platform = from.platform();
            this.type = from.type();
            this.status = from.status();
            this.schedulable = from.schedulable();
            this.priority = from.priority();
            this.concurrency = from.concurrency();
            this.rateLimitResetAt = from.rateLimitResetAt();
            this.overloadUntil = from.overloadUntil();
            this.tempUnschedulableUntil = from.tempUnschedulableUntil();
            this.expiresAt = from.expiresAt();
            this.autoPauseOnExpired = from.autoPauseOnExpired();
            this.mixedScheduling = from.mixedScheduling();
            this.supportedModels = from.supportedModels();
            this.groups = from.groups();
            this.updatedAt = from.updatedAt();
            this.limits = from.limits();
        }

        public Builder id(long v) {
            this.id = v;
            return this;
        }

        public Builder name(String v) {
            this.name = v;
            return this;
        }

        public Builder platform(String v) {
            this.platform = v;
            return this;
        }

        public Builder type(String v) {
            this.type = v;
            return this;
        }

        public Builder status(String v) {
            this.status = v;
            return this;
        }

        public Builder schedulable(boolean v) {
            this.schedulable = v;
            return this;
        }

        public Builder priority(int v) {
            this.priority = v;
            return this;
        }

        public Builder concurrency(int v) {
            this.concurrency = v;
            return this;
        }

        public Builder rateLimitResetAt(@Nullable Instant v) {
            this.rateLimitResetAt = v;
            return this;
        }

        public Builder overloadUntil(@Nullable Instant v) {
            this.overloadUntil = v;
            return this;
        }

        public Builder tempUnschedulableUntil(@Nullable Instant v) {
            this.tempUnschedulableUntil = v;
            return this;
        }

        public Builder expiresAt(@Nullable Instant v) {
            this.expiresAt = v;
            return this;
        }

        public Builder autoPauseOnExpired(boolean v) {
            this.autoPauseOnExpired = v;
            return this;
        }

        public Builder mixedScheduling(boolean v) {
            this.mixedScheduling = v;
            return this;
        }

        public Builder supportedModels(@Nullable List<String> v) {
            this.supportedModels = v;
            return this;
        }

        public Builder groups(@Nullable List<GroupLink> v) {
            this.groups = v;
            return this;
        }

        public Builder updatedAt(@Nullable Instant v) {
            this.updatedAt = v;
            return this;
        }

        public Builder limits(AccountLimits v) {
            this.limits = v;
            return this;
        }

        /** The AccountCard; its constructor validates the values. */
        public AccountCard build() {
            return new AccountCard(
                    id,
                    Objects.requireNonNull(name, "name"),
                    Objects.requireNonNull(platform, "platform"),
                    Objects.requireNonNull(type, "type"),
                    Objects.requireNonNull(status, "status"),
                    schedulable,
                    priority,
                    concurrency,
                    rateLimitResetAt,
                    overloadUntil,
                    tempUnschedulableUntil,
                    expiresAt,
                    autoPauseOnExpired,
                    mixedScheduling,
                    supportedModels == null ? List.of() : supportedModels,
                    groups == null ? List.of() : groups,
                    updatedAt,
                    limits);
        }
    }

    /** The durable part of schedulability: active status and the admin switch. */
    public boolean durablySchedulable() {
        return "active".equals(status) && schedulable;
    }

    /**
     * Why the time-based blocks exclude this account at {@code now}, or {@code null} when none does.
     * A block ends at its instant: an account whose reset time equals {@code now} is schedulable.
     */
    public @Nullable Block timeBlockAt(Instant now) {
        if (rateLimitResetAt != null && rateLimitResetAt.isAfter(now)) {
            return new Block(BlockKind.RATE_LIMITED, rateLimitResetAt);
        }
        if (overloadUntil != null && overloadUntil.isAfter(now)) {
            return new Block(BlockKind.OVERLOADED, overloadUntil);
        }
        if (tempUnschedulableUntil != null && tempUnschedulableUntil.isAfter(now)) {
            return new Block(BlockKind.TEMP_UNSCHEDULABLE, tempUnschedulableUntil);
        }
        if (autoPauseOnExpired && expiresAt != null && !expiresAt.isAfter(now)) {
            return new Block(BlockKind.EXPIRED, null);
        }
        return null;
    }

    /** Whether no time-based block applies at {@code now}. */
    public boolean availableAt(Instant now) {
        return timeBlockAt(now) == null;
    }

    /** Whether the account serves {@code model} (no mapping means every model). */
    public boolean supportsModel(@Nullable String model) {
        return model == null || supportedModels.isEmpty() || supportedModels.contains(model);
    }

    /** The link priority of {@code groupId}, or {@code null} when the account is not a member. */
    public @Nullable Integer linkPriority(long groupId) {
        for (GroupLink l : groups) {
            if (l.groupId() == groupId) {
                return l.priority();
            }
        }
        return null;
    }

    /** The kind of a time-based block. */
    public enum BlockKind {
        RATE_LIMITED,
        OVERLOADED,
        TEMP_UNSCHEDULABLE,
        EXPIRED
    }

    /**
     * A time-based block and when it ends ({@code null} for an expiry, which does not end by itself).
     *
     * @param kind the block
     * @param until when it ends, or {@code null}
     */
    public record Block(BlockKind kind, @Nullable Instant until) {}
}
