package dev.roster.core.projection;

import dev.roster.core.Bucket;
import java.util.Objects;

/**
 * A version allocated for one bucket before its database read, together with the bucket's fence
 * epoch at that moment. {@link Projection#publish} activates the ticket's snapshot only if the
 * version is newer than the active one and the epoch is still current, so a writer whose read may
 * predate a newer write or a retire can never replace newer data or republish a retired bucket.
 *
 * @param bucket the bucket the ticket is valid for (and only for it)
 * @param version the allocated version, {@code >= 1}
 * @param epoch the fence epoch captured at allocation, {@code >= 0}
 */
public record VersionTicket(Bucket bucket, long version, long epoch) {
    public VersionTicket {
        Objects.requireNonNull(bucket, "bucket");
        if (version < 1) {
            throw new IllegalArgumentException("ticket version must be >= 1, got " + version);
        }
        if (epoch < 0) {
            throw new IllegalArgumentException("ticket epoch must be >= 0, got " + epoch);
        }
    }
}
