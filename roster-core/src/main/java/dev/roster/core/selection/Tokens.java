package dev.roster.core.selection;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** Random tokens of slots and wait tickets: 128 bits, 32 lower-case hex digits. */
public final class Tokens {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern SHAPE = Pattern.compile("[0-9a-f]{32}");

    private Tokens() {}

    /** A fresh token. */
    public static String random() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /**
     * Returns {@code token} when well formed.
     *
     * @throws IllegalArgumentException naming {@code what} and the value otherwise
     */
    public static String require(String token, String what) {
        if (token == null || !SHAPE.matcher(token).matches()) {
            throw new IllegalArgumentException(what + " must be 32 lower-case hex digits, got '" + token + "'");
        }
        return token;
    }
}
