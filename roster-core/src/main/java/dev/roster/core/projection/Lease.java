package dev.roster.core.projection;

import java.util.regex.Pattern;

/**
 * A held lease: its name and the random owner token that proves ownership. Renewal and release
 * succeed only while the stored token is this one, so a holder whose lease expired and was taken by a
 * successor can neither extend nor delete the successor's lease.
 *
 * @param name the lease name, 1 to 200 characters of {@code [A-Za-z0-9_.:-]}
 * @param token the owner token (32 lower-case hex characters when issued by a projection)
 */
public record Lease(String name, String token) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.:-]{1,200}");

    public Lease {
        requireName(name);
        if (token == null || token.isEmpty()) {
            throw new IllegalArgumentException("lease token must not be empty");
        }
    }

    /** Returns {@code name} if it is a valid lease name, else throws naming it. */
    public static String requireName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("lease name must match [A-Za-z0-9_.:-]{1,200}, got '" + name + "'");
        }
        return name;
    }

    @Override
    public String toString() {
        // The token is a capability; keep it out of logs.
        return "Lease[" + name + "]";
    }
}
