package dev.roster.core.config;

import java.time.Duration;

/**
 * Roster's own {@code selection} section: the values account selection needs that sub2api's {@code
 * gateway.scheduling} section does not carry (sticky timeouts and queue limits come from there). Every
 * value is validated at construction; a {@link ConfigException} names the key and the value.
 *
 * @param slotLeaseTtl {@code selection.slot_lease_ttl}: how long a concurrency slot is held without a
 *     renewal before it counts as abandoned (its holder presumed dead), 1 s..24 h (default 5 min)
 * @param stickyTtl {@code selection.sticky_ttl}: how long a session stays bound to its account after its
 *     last use, 1 s..7 d (default 1 h, sub2api's value)
 * @param rateLimitDefaultCooldown {@code selection.rate_limit_default_cooldown}: cooldown after a 429
 *     that carries no usable reset time, positive (default 5 min)
 * @param overloadCooldown {@code selection.overload_cooldown}: cooldown after a 529 or overload answer,
 *     positive (default 10 min, sub2api's {@code overload_cooldown_minutes})
 * @param authFailureCooldown {@code selection.auth_failure_cooldown}: how long an account that failed
 *     authentication is temporarily unschedulable, positive (default 10 min)
 */
public record SelectionConfig(
        Duration slotLeaseTtl,
        Duration stickyTtl,
        Duration rateLimitDefaultCooldown,
        Duration overloadCooldown,
        Duration authFailureCooldown) {

    private static final String P = "selection.";

    /** The defaults. */
    public static final SelectionConfig DEFAULTS = new SelectionConfig(
            Duration.ofMinutes(5),
            Duration.ofHours(1),
            Duration.ofMinutes(5),
            Duration.ofMinutes(10),
            Duration.ofMinutes(10));

    public SelectionConfig {
        between("slot_lease_ttl", slotLeaseTtl, Duration.ofSeconds(1), Duration.ofHours(24));
        between("sticky_ttl", stickyTtl, Duration.ofSeconds(1), Duration.ofDays(7));
        between("rate_limit_default_cooldown", rateLimitDefaultCooldown, Duration.ofMillis(1), Duration.ofDays(30));
        between("overload_cooldown", overloadCooldown, Duration.ofMillis(1), Duration.ofDays(30));
        between("auth_failure_cooldown", authFailureCooldown, Duration.ofMillis(1), Duration.ofDays(30));
    }

    /** A copy with another slot lease TTL. */
    public SelectionConfig withSlotLeaseTtl(Duration v) {
        return new SelectionConfig(v, stickyTtl, rateLimitDefaultCooldown, overloadCooldown, authFailureCooldown);
    }

    /** A copy with another sticky TTL. */
    public SelectionConfig withStickyTtl(Duration v) {
        return new SelectionConfig(slotLeaseTtl, v, rateLimitDefaultCooldown, overloadCooldown, authFailureCooldown);
    }

    private static void between(String key, Duration d, Duration min, Duration max) {
        if (d == null || d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw new ConfigException(P + key, d, "a duration between " + min + " and " + max + " such as 5m");
        }
    }
}
