package dev.roster.core.config;

import java.time.Duration;

/**
 * Roster's {@code projection} section: lease timing and the grace period of superseded snapshots.
 *
 * @param leaseTtl {@code projection.lease_ttl}: TTL of the replayer lease, positive (default 10 s)
 * @param leaseRenew {@code projection.lease_renew}: renewal period, positive and below the TTL
 *     (default 3 s)
 * @param grace {@code projection.grace}: how long superseded snapshot versions stay readable,
 *     positive (default 60 s)
 */
public record ProjectionConfig(Duration leaseTtl, Duration leaseRenew, Duration grace) {
    private static final String P = "projection.";

    /** The defaults. */
    public static final ProjectionConfig DEFAULTS =
            new ProjectionConfig(Duration.ofSeconds(10), Duration.ofSeconds(3), Duration.ofSeconds(60));

    public ProjectionConfig {
        positive("lease_ttl", leaseTtl);
        positive("lease_renew", leaseRenew);
        positive("grace", grace);
        if (leaseRenew.compareTo(leaseTtl) >= 0) {
            throw new ConfigException(
                    P + "lease_renew", leaseRenew, "a duration below projection.lease_ttl (" + leaseTtl + ")");
        }
    }

    private static void positive(String key, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new ConfigException(P + key, d, "a positive duration such as 10s");
        }
    }
}
