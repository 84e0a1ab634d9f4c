package dev.roster.core.selection;

import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A place in an account's wait queue, counted in its waiting number (and so in its load rate) until it is
 * handed back ({@link Selector#release(WaitTicket)}, or passed to the next {@link Selector#select} as
 * {@link SelectRequest#waitTicket()}) or its wait ends.
 *
 * <p>A ticket {@link Selector#select} hands out is <b>sealed</b>: {@code seal} is a MAC, under {@code
 * selection.wait_ticket_secret}, over the account, the token, the deadline and the request's group,
 * platform, session key and model (decision SP1). A retry must pass the ticket back unchanged with the same
 * request; {@code select} refuses any other ticket ({@link InvalidWaitTicketException}). A store's ticket
 * ({@link SelectionStore#tryEnqueue}) is unsealed ({@code seal} empty): it names the queue place only.
 *
 * @param accountId the account queued on
 * @param token the ticket's random token (32 lower-case hex digits)
 * @param expiresAt the end of the wait (application clock): for a sealed ticket the wait's one deadline,
 *     set at its first enqueue and kept by every re-queue of its retries
 * @param seal the MAC (32 lower-case hex digits), or empty for a store's unsealed ticket
 */
public record WaitTicket(long accountId, String token, Instant expiresAt, String seal) {
    private static final Pattern SEAL = Pattern.compile("[0-9a-f]{32}");

    public WaitTicket {
        Tokens.require(token, "wait token");
        Objects.requireNonNull(expiresAt, "expiresAt");
        Objects.requireNonNull(seal, "seal");
        if (!seal.isEmpty() && !SEAL.matcher(seal).matches()) {
            throw new InvalidWaitTicketException("its seal must be 32 lower-case hex digits");
        }
    }

    /** An unsealed ticket, as a store hands it out. */
    public WaitTicket(long accountId, String token, Instant expiresAt) {
        this(accountId, token, expiresAt, "");
    }

    /** Whether {@link Selector#select} sealed it. */
    public boolean sealed() {
        return !seal.isEmpty();
    }
}
