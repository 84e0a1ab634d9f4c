package dev.roster.core.selection;

/**
 * A report named an account that does not exist (nothing was written). A bad-argument error, so callers
 * that map {@link IllegalArgumentException} to a client error still do; the HTTP server answers 404.
 */
public final class UnknownAccountException extends IllegalArgumentException {
    private final long accountId;

    /** For the account {@code accountId}. */
    public UnknownAccountException(long accountId) {
        super("account " + accountId + " does not exist");
        this.accountId = accountId;
    }

    /** The id asked for. */
    public long accountId() {
        return accountId;
    }
}
