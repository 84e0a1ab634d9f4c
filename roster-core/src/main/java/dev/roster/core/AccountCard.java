package dev.roster.core;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The scheduling view of one account (design §3): every field a selection rule reads, and never a
 * credential. {@code supportedModels} holds the keys of {@code credentials.model_mapping} (empty
 * means every model). Last-used is deliberately not part of the card: it changes on every request
 * and is kept beside it.
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
        Instant rateLimitResetAt,
        Instant overloadUntil,
        Instant tempUnschedulableUntil,
        Instant expiresAt,
        boolean autoPauseOnExpired,
        boolean mixedScheduling,
        List<String> supportedModels,
        List<GroupLink> groups,
        Instant updatedAt) {

    public AccountCard {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(platform, "platform");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(status, "status");
        supportedModels = List.copyOf(supportedModels == null ? List.of() : supportedModels);
        groups = List.copyOf(groups == null ? List.of() : groups);
    }

    /** This card with another {@code updatedAt} (the audit ignores that field). */
    public AccountCard withUpdatedAt(Instant at) {
        return new AccountCard(
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
                supportedModels,
                groups,
                at);
    }

    /** This card with another list of supported models. */
    public AccountCard withSupportedModels(List<String> models) {
        return new AccountCard(
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
                models,
                groups,
                updatedAt);
    }

    /** The durable part of schedulability: active status and the admin switch. */
    public boolean durablySchedulable() {
        return "active".equals(status) && schedulable;
    }

    /**
     * Why the time-based blocks exclude this account at {@code now}, or {@code null} when none does.
     * A block ends at its instant: an account whose reset time equals {@code now} is schedulable.
     */
    public Block timeBlockAt(Instant now) {
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
    public boolean supportsModel(String model) {
        return model == null || supportedModels.isEmpty() || supportedModels.contains(model);
    }

    /** The link priority of {@code groupId}, or {@code null} when the account is not a member. */
    public Integer linkPriority(long groupId) {
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
    public record Block(BlockKind kind, Instant until) {}
}
