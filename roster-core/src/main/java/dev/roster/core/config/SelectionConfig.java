package dev.roster.core.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Roster's own {@code selection} section: the values account selection needs that sub2api's {@code
 * gateway.scheduling} section does not carry (sticky timeouts and queue limits come from there). Every
 * value is validated at construction; a {@link ConfigException} names the key and the value.
 *
 * @param slotLeaseTtl {@code selection.slot_lease_ttl}: how long a concurrency slot is held without a
 *     renewal before it counts as abandoned (its holder presumed dead), 1 s..24 h (default 5 min)
 * @param stickyTtl {@code selection.sticky_ttl}: how long a session stays bound to its account after its
 *     last use, 1 s..7 d (default 1 h, sub2api's value)
 * @param authFailureCooldown {@code selection.auth_failure_cooldown}: how long an account that failed
 *     authentication is temporarily unschedulable, positive (default 10 min)
 * @param cooldowns {@code selection.cooldowns.*}: cooldowns by error class (default {@link
 *     CooldownPolicy#DEFAULTS})
 * @param quota {@code selection.quota.*}: default used-% thresholds of the quota windows (default {@link
 *     QuotaThresholds#DEFAULTS})
 * @param loadViewMaxAge {@code selection.load_view_max_age}: how long a selector orders candidates by the
 *     loads it last read instead of reading them again, 0..10 s, 0 to read on every select (default {@value
 *     #DEFAULT_LOAD_VIEW_MAX_AGE_MS} ms; decision S5 under "One-round-trip selection and new card fields")
 * @param waitTicketSecret {@code selection.wait_ticket_secret}: the key that signs wait tickets, the same
 *     on every instance that must accept another's tickets (default: a random key of this process,
 *     {@link TicketSecret#random()}; decision SP1)
 * @param stickyHealth {@code selection.sticky.*}: when a bound account is skipped for its health (default
 *     {@link StickyHealthThresholds#DEFAULTS})
 * @param preferSoonestReset {@code selection.prefer_soonest_reset}: within a priority tier, try first the
 *     accounts whose reported quota window resets soonest (default false; decision SP6)
 */
public record SelectionConfig(
        Duration slotLeaseTtl,
        Duration stickyTtl,
        Duration authFailureCooldown,
        CooldownPolicy cooldowns,
        QuotaThresholds quota,
        Duration loadViewMaxAge,
        TicketSecret waitTicketSecret,
        StickyHealthThresholds stickyHealth,
        boolean preferSoonestReset) {

    /** The ticket key of {@link #DEFAULTS} and of the constructors without one: one per process. */
    private static final TicketSecret PROCESS_SECRET = TicketSecret.random();

    /** The default of {@code selection.load_view_max_age}, in milliseconds. */
    public static final long DEFAULT_LOAD_VIEW_MAX_AGE_MS = 250;

    private static final String P = "selection.";

    /** The defaults. */
    public static final SelectionConfig DEFAULTS = new SelectionConfig(
            Duration.ofMinutes(5),
            Duration.ofHours(1),
            Duration.ofMinutes(10),
            CooldownPolicy.DEFAULTS,
            QuotaThresholds.DEFAULTS,
            Duration.ofMillis(DEFAULT_LOAD_VIEW_MAX_AGE_MS),
            PROCESS_SECRET,
            StickyHealthThresholds.DEFAULTS,
            false);

    public SelectionConfig {
        between("slot_lease_ttl", slotLeaseTtl, Duration.ofSeconds(1), Duration.ofHours(24));
        between("sticky_ttl", stickyTtl, Duration.ofSeconds(1), Duration.ofDays(7));
        between("auth_failure_cooldown", authFailureCooldown, Duration.ofMillis(1), Duration.ofDays(30));
        Objects.requireNonNull(cooldowns, "cooldowns");
        Objects.requireNonNull(quota, "quota");
        if (loadViewMaxAge == null
                || loadViewMaxAge.isNegative()
                || loadViewMaxAge.compareTo(Duration.ofSeconds(10)) > 0) {
            throw new ConfigException(
                    P + "load_view_max_age", loadViewMaxAge, "a duration between 0s and 10s such as 250ms");
        }
        Objects.requireNonNull(waitTicketSecret, "waitTicketSecret");
        Objects.requireNonNull(stickyHealth, "stickyHealth");
    }

    /** The given values without preferring the soonest reset (decision SP6). */
    public SelectionConfig(
            Duration slotLeaseTtl,
            Duration stickyTtl,
            Duration authFailureCooldown,
            CooldownPolicy cooldowns,
            QuotaThresholds quota,
            Duration loadViewMaxAge,
            TicketSecret waitTicketSecret,
            StickyHealthThresholds stickyHealth) {
        this(
                slotLeaseTtl,
                stickyTtl,
                authFailureCooldown,
                cooldowns,
                quota,
                loadViewMaxAge,
                waitTicketSecret,
                stickyHealth,
                false);
    }

    /** The given values with this process's ticket key and the default sticky health thresholds. */
    public SelectionConfig(
            Duration slotLeaseTtl,
            Duration stickyTtl,
            Duration authFailureCooldown,
            CooldownPolicy cooldowns,
            QuotaThresholds quota,
            Duration loadViewMaxAge) {
        this(
                slotLeaseTtl,
                stickyTtl,
                authFailureCooldown,
                cooldowns,
                quota,
                loadViewMaxAge,
                PROCESS_SECRET,
                StickyHealthThresholds.DEFAULTS);
    }

    /** The given values with the default load view. */
    public SelectionConfig(
            Duration slotLeaseTtl,
            Duration stickyTtl,
            Duration authFailureCooldown,
            CooldownPolicy cooldowns,
            QuotaThresholds quota) {
        this(
                slotLeaseTtl,
                stickyTtl,
                authFailureCooldown,
                cooldowns,
                quota,
                Duration.ofMillis(DEFAULT_LOAD_VIEW_MAX_AGE_MS));
    }

    /** The given values with {@link QuotaThresholds#DEFAULTS}. */
    public SelectionConfig(
            Duration slotLeaseTtl, Duration stickyTtl, Duration authFailureCooldown, CooldownPolicy cooldowns) {
        this(slotLeaseTtl, stickyTtl, authFailureCooldown, cooldowns, QuotaThresholds.DEFAULTS);
    }

    /**
     * Fixed cooldowns without escalation ({@link CooldownPolicy#fixed}): {@code rateLimitDefaultCooldown}
     * after a 429 without reset time, {@code overloadCooldown} after an overload.
     */
    public SelectionConfig(
            Duration slotLeaseTtl,
            Duration stickyTtl,
            Duration rateLimitDefaultCooldown,
            Duration overloadCooldown,
            Duration authFailureCooldown) {
        this(
                slotLeaseTtl,
                stickyTtl,
                authFailureCooldown,
                CooldownPolicy.fixed(
                        positive("rate_limit_default_cooldown", rateLimitDefaultCooldown),
                        positive("overload_cooldown", overloadCooldown)));
    }

    /** A copy with another slot lease TTL. */
    public SelectionConfig withSlotLeaseTtl(Duration v) {
        return new SelectionConfig(
                v,
                stickyTtl,
                authFailureCooldown,
                cooldowns,
                quota,
                loadViewMaxAge,
                waitTicketSecret,
                stickyHealth,
                preferSoonestReset);
    }

    /** A copy with another sticky TTL. */
    public SelectionConfig withStickyTtl(Duration v) {
        return new SelectionConfig(
                slotLeaseTtl,
                v,
                authFailureCooldown,
                cooldowns,
                quota,
                loadViewMaxAge,
                waitTicketSecret,
                stickyHealth,
                preferSoonestReset);
    }

    /** A copy with another cooldown policy. */
    public SelectionConfig withCooldowns(CooldownPolicy v) {
        return new SelectionConfig(
                slotLeaseTtl,
                stickyTtl,
                authFailureCooldown,
                v,
                quota,
                loadViewMaxAge,
                waitTicketSecret,
                stickyHealth,
                preferSoonestReset);
    }

    /** A copy with other default quota thresholds. */
    public SelectionConfig withQuota(QuotaThresholds v) {
        return new SelectionConfig(
                slotLeaseTtl,
                stickyTtl,
                authFailureCooldown,
                cooldowns,
                v,
                loadViewMaxAge,
                waitTicketSecret,
                stickyHealth,
                preferSoonestReset);
    }

    /** A copy with another load view max age (0 reads the loads on every select). */
    public SelectionConfig withLoadViewMaxAge(Duration v) {
        return new SelectionConfig(
                slotLeaseTtl,
                stickyTtl,
                authFailureCooldown,
                cooldowns,
                quota,
                v,
                waitTicketSecret,
                stickyHealth,
                preferSoonestReset);
    }

    /** A copy with another wait ticket key. */
    public SelectionConfig withWaitTicketSecret(TicketSecret v) {
        return new SelectionConfig(
                slotLeaseTtl,
                stickyTtl,
                authFailureCooldown,
                cooldowns,
                quota,
                loadViewMaxAge,
                v,
                stickyHealth,
                preferSoonestReset);
    }

    /** A copy with other sticky health thresholds. */
    public SelectionConfig withStickyHealth(StickyHealthThresholds v) {
        return new SelectionConfig(
                slotLeaseTtl,
                stickyTtl,
                authFailureCooldown,
                cooldowns,
                quota,
                loadViewMaxAge,
                waitTicketSecret,
                v,
                preferSoonestReset);
    }

    /** A copy that does or does not prefer the soonest quota reset within a tier (decision SP6). */
    public SelectionConfig withPreferSoonestReset(boolean v) {
        return new SelectionConfig(
                slotLeaseTtl,
                stickyTtl,
                authFailureCooldown,
                cooldowns,
                quota,
                loadViewMaxAge,
                waitTicketSecret,
                stickyHealth,
                v);
    }

    private static Duration positive(String key, Duration d) {
        between(key, d, Duration.ofMillis(1), Duration.ofDays(30));
        return d;
    }

    private static void between(String key, Duration d, Duration min, Duration max) {
        if (d == null || d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw new ConfigException(P + key, d, "a duration between " + min + " and " + max + " such as 5m");
        }
    }
}
