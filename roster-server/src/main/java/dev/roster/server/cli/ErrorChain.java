package dev.roster.server.cli;

/** The one line a command prints for a failure: an exception's message and its causes' new parts. */
final class ErrorChain {
    private ErrorChain() {}

    /**
     * {@code ex}'s message followed by each cause's message that is not already in the line, joined by
     * {@code ": "}; a user gets what went wrong without a stack trace (that is for the debug log).
     */
    // The walk stops when a cause is its own cause (the same object): identity is the test.
    @SuppressWarnings("ReferenceEquality")
    static String describe(Throwable ex) {
        StringBuilder sb = new StringBuilder(String.valueOf(ex.getMessage()));
        Throwable c = ex.getCause();
        while (c != null && c != ex) {
            if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
                sb.append(": ").append(c.getMessage());
            }
            ex = c;
            c = c.getCause();
        }
        return sb.toString();
    }
}
