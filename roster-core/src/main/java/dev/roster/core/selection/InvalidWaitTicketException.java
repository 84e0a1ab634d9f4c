package dev.roster.core.selection;

/**
 * A {@link SelectRequest#waitTicket()} that {@link Selector#select} did not issue for this request:
 * forged, altered (account, token, deadline or seal), unsealed, sealed under another {@code
 * selection.wait_ticket_secret}, or issued for a request with another group, platform, session key or
 * model (decision SP1). Nothing was written and no slot was tried. A bad-argument error; the HTTP server
 * answers 400 naming {@code wait_ticket}.
 */
public final class InvalidWaitTicketException extends IllegalArgumentException {
    /** With what is wrong, completing "wait ticket ...". */
    public InvalidWaitTicketException(String what) {
        super("wait ticket is not valid: " + what);
    }
}
