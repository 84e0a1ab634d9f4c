package dev.roster.core.selection;

import java.time.Instant;
import java.util.Objects;

/**
 * A held concurrency slot on an account. Hand it back with {@link Selector#release(SlotLease)} when the
 * upstream call ends; if the holder dies, the slot frees itself at {@link #expiresAt()} unless renewed.
 *
 * @param accountId the account
 * @param token the slot's random token (32 lower-case hex digits)
 * @param expiresAt when the slot counts as abandoned (application clock)
 */
public record SlotLease(long accountId, String token, Instant expiresAt) {
    public SlotLease {
        Tokens.require(token, "slot token");
        Objects.requireNonNull(expiresAt, "expiresAt");
    }
}
