package dev.roster.server.config;

import dev.roster.core.config.ConfigException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * The {@code ROSTER_*} environment variables of a process, read against {@link ConfigKeys#ALL}: every
 * variable under that prefix must set a known key, be one the launcher reads, or be listed in {@value
 * #IGNORE}. Anything else stops the start (decision C2): a mistyped variable that was silently skipped
 * left its key at the default, which for some keys (a fallback QPS cap, a token) is the opposite of
 * what the operator asked for.
 */
final class EnvironmentKeys {
    /** The prefix of every variable Roster reads. */
    static final String PREFIX = "ROSTER_";

    /**
     * The escape hatch: a comma-separated list of {@code ROSTER_*} names (or prefixes ending in {@code
     * *}) that are not Roster's, e.g. the service-link variables Kubernetes injects for a Service named
     * {@code roster} ({@code ROSTER_SERVICE_HOST}, {@code ROSTER_PORT_8090_TCP}, ...).
     */
    static final String IGNORE = "ROSTER_IGNORE_ENV";

    /** Variables the launcher and the logging set-up read; they are not configuration keys. */
    static final Set<String> NOT_CONFIG =
            Set.of("ROSTER_JAVA_OPTS", "ROSTER_LOG_LEVEL", "ROSTER_JAVA_HOME", "ROSTER_JVM_FLAGS", IGNORE);

    private static final int MAX_SUGGESTION_DISTANCE = 4;

    private EnvironmentKeys() {}

    /**
     * The known keys set by {@code env}, by key path, with their variable names.
     *
     * @throws ConfigException naming the first unknown {@code ROSTER_*} variable (in name order, so the
     *     message is the same on every start) and the nearest known variable
     */
    static Map<String, String> read(Map<String, String> env) {
        List<String> ignored = ignoreList(env.getOrDefault(IGNORE, ""));
        Map<String, ConfigKey> byEnv = new LinkedHashMap<>();
        for (ConfigKey k : ConfigKeys.ALL.values()) {
            byEnv.put(k.envName(), k);
        }
        Map<String, String> set = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            String name = e.getKey();
            if (!name.startsWith(PREFIX)) {
                continue;
            }
            ConfigKey k = byEnv.get(name);
            if (k != null) {
                set.put(k.path(), name);
            } else if (!NOT_CONFIG.contains(name) && !isIgnored(name, ignored)) {
                throw unknown(name, e.getValue(), byEnv);
            }
        }
        return set;
    }

    private static List<String> ignoreList(String text) {
        List<String> out = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            String p = part.strip();
            if (!p.isEmpty()) {
                out.add(p);
            }
        }
        return out;
    }

    private static boolean isIgnored(String name, List<String> ignored) {
        for (String p : ignored) {
            if (p.endsWith("*") ? name.startsWith(p.substring(0, p.length() - 1)) : name.equals(p)) {
                return true;
            }
        }
        return false;
    }

    private static ConfigException unknown(String name, String value, Map<String, ConfigKey> byEnv) {
        // The value is never shown: a mistyped name no longer looks secret (ROSTER_SERVER_ADMIN_TOKNE)
        // but still holds the token, and the name alone is enough to find the line to fix.
        String shown = Secrets.mask(value);
        ConfigKey near = nearest(name, byEnv);
        String suggestion = near == null ? "" : " (did you mean " + near.envName() + ", key " + near.path() + "?)";
        return new ConfigException(
                name,
                shown + " (from environment)",
                "a ROSTER_ variable that sets a known key: this one sets none" + suggestion
                        + "; roster.example.yaml lists every key (the variable is ROSTER_ and the key path upper-cased,"
                        + " dots as _); list variables that are not Roster's in " + IGNORE);
    }

    private static @Nullable ConfigKey nearest(String name, Map<String, ConfigKey> byEnv) {
        String upper = name.toUpperCase(Locale.ROOT);
        ConfigKey best = null;
        int bestD = Integer.MAX_VALUE;
        for (Map.Entry<String, ConfigKey> e : byEnv.entrySet()) {
            int d = Levenshtein.distance(upper, e.getKey());
            if (d < bestD) {
                bestD = d;
                best = e.getValue();
            }
        }
        return bestD <= MAX_SUGGESTION_DISTANCE ? best : null;
    }
}
