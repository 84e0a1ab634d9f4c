package dev.roster.core.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;

/**
 * The key that signs wait tickets ({@code selection.wait_ticket_secret}; decision SP1): every instance
 * that must accept another's tickets holds the same key. The key never leaves the process: {@link
 * #toString()} masks it and nothing writes it to Redis, logs, metrics or answers.
 */
public final class TicketSecret {
    /** The shortest configured secret accepted, in characters. */
    public static final int MIN_LENGTH = 32;

    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] key;
    private final boolean configured;

    private TicketSecret(byte[] key, boolean configured) {
        this.key = key;
        this.configured = configured;
    }

    /**
     * A configured secret: at least {@value #MIN_LENGTH} printable ASCII characters without spaces.
     *
     * @throws ConfigException naming {@code selection.wait_ticket_secret} (never the value) otherwise
     */
    public static TicketSecret of(String secret) {
        if (secret == null || secret.length() < MIN_LENGTH || secret.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
            throw new ConfigException(
                    "selection.wait_ticket_secret",
                    "****",
                    "at least " + MIN_LENGTH + " printable characters without spaces, the same on every instance"
                            + " (e.g. the output of openssl rand -hex 32)");
        }
        return new TicketSecret(secret.getBytes(StandardCharsets.US_ASCII), true);
    }

    /**
     * A random key of this process (when none is configured): tickets are then accepted only by the
     * selectors of this process.
     */
    public static TicketSecret random() {
        byte[] k = new byte[32];
        RANDOM.nextBytes(k);
        return new TicketSecret(k, false);
    }

    /** Whether the key was configured (shared by instances) rather than drawn at random by this process. */
    public boolean configured() {
        return configured;
    }

    /** A copy of the key's bytes, for the MAC. */
    public byte[] key() {
        return key.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TicketSecret t && configured == t.configured && MessageDigest.isEqual(key, t.key);
    }

    @Override
    public int hashCode() {
        // Constant: a hash of the key would leak a function of it wherever hash codes are shown.
        return configured ? 1 : 0;
    }

    @Override
    public String toString() {
        return configured ? "TicketSecret[****]" : "TicketSecret[random]";
    }
}
