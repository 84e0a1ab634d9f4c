package dev.roster.core.selection;

import java.time.Instant;
import java.util.Objects;

/**
 * A place in an account's wait queue, counted in its waiting number (and so in its load rate) until it is
 * handed back ({@link Selector#release(WaitTicket)}, or passed to the next {@link Selector#select} as
 * {@link SelectRequest#waitTicket()}) or it expires at the end of the wait timeout.
 *
 * @param accountId the account queued on
 * @param token the ticket's random token (32 lower-case hex digits)
 * @param expiresAt the end of the wait (application clock)
 */
public record WaitTicket(long accountId, String token, Instant expiresAt) {
    public WaitTicket {
        Tokens.require(token, "wait token");
        Objects.requireNonNull(expiresAt, "expiresAt");
    }
}
