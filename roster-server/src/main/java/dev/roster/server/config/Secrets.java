package dev.roster.server.config;

import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** Masking of secrets before anything is printed, logged or returned. */
public final class Secrets {
    private static final Pattern USERINFO = Pattern.compile("(?<=://)[^/@]*@");
    private static final Pattern PASSWORD_PARAM = Pattern.compile("(?i)(password|pass|pwd|token)=[^&;]*");
    private static final Pattern SECRETISH = Pattern.compile("(?i).*(pass|pwd|token|secret|cred|auth|key).*");

    private Secrets() {}

    /** {@code ****} for any non-empty secret, {@code (empty)} otherwise: the value's shape never shows. */
    public static String mask(@Nullable String secret) {
        return secret == null || secret.isEmpty() ? "(empty)" : "****";
    }

    /** The URL with any user-info and password-like query parameter replaced by {@code ****}. */
    public static String maskUrl(@Nullable String url) {
        if (url == null) {
            return "(embedded)";
        }
        String s = USERINFO.matcher(url).replaceAll("****@");
        return PASSWORD_PARAM.matcher(s).replaceAll("$1=****");
    }

    /** Whether a key name looks like it holds a secret (used for keys Roster does not know). */
    public static boolean looksSecret(String keyPath) {
        return SECRETISH.matcher(keyPath).matches();
    }
}
