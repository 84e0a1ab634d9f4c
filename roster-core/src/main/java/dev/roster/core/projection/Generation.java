package dev.roster.core.projection;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The projection's generation: a random id plus a fingerprint of the settings that shape snapshots
 * (run mode, group-0 scope, value format version). A projection whose stored generation is missing
 * (flushed or replaced Redis) or carries another fingerprint (changed settings) must be fully rebuilt
 * before it is trusted; the caller then stores a fresh generation.
 *
 * @param id random id, 1 to 64 characters of {@code [A-Za-z0-9_-]}
 * @param fingerprint settings fingerprint, 1 to 128 characters of {@code [A-Za-z0-9_.:-]}
 */
public record Generation(String id, String fingerprint) {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final Pattern FINGERPRINT = Pattern.compile("[A-Za-z0-9_.:-]{1,128}");
    private static final SecureRandom RANDOM = new SecureRandom();

    public Generation {
        requireId(id);
        if (fingerprint == null || !FINGERPRINT.matcher(fingerprint).matches()) {
            throw new IllegalArgumentException(
                    "generation fingerprint must match [A-Za-z0-9_.:-]{1,128}, got '" + fingerprint + "'");
        }
    }

    /** A new generation with a random 128-bit id (32 hex characters) and the given fingerprint. */
    public static Generation random(String fingerprint) {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return new Generation(HexFormat.of().formatHex(b), fingerprint);
    }

    /**
     * A fingerprint of the snapshot-shaping settings: the first 16 bytes of SHA-256 over the parts
     * joined by a newline, as hex. Equal settings give equal fingerprints on every instance.
     */
    public static String fingerprintOf(String... settings) {
        Objects.requireNonNull(settings, "settings");
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String s : settings) {
                md.update(Objects.requireNonNull(s, "setting").getBytes(StandardCharsets.UTF_8));
                md.update((byte) '\n');
            }
            byte[] d = md.digest();
            return HexFormat.of().formatHex(d, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    /** Whether this generation was made for settings with {@code fingerprint}. */
    public boolean matches(String fingerprint) {
        return this.fingerprint.equals(fingerprint);
    }

    static String requireId(String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("generation id must match [A-Za-z0-9_-]{1,64}, got '" + id + "'");
        }
        return id;
    }
}
