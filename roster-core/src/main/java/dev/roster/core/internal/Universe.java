package dev.roster.core.internal;

import dev.roster.core.Bucket;
import dev.roster.core.Mode;
import dev.roster.core.Platforms;
import dev.roster.core.RunMode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * The set of buckets a rebuild covers (docs/upstream.md U-UNIVERSE; docs/architecture.md, "Buckets and cards") and
 * group normalisation.
 */
public final class Universe {
    private Universe() {}

    /** The modes the hot path can ask for on {@code platform}: single and forced, plus mixed for anthropic/gemini. */
    public static List<Mode> modes(String platform) {
        return Platforms.isMixedCapable(platform)
                ? List.of(Mode.SINGLE, Mode.FORCED, Mode.MIXED)
                : List.of(Mode.SINGLE, Mode.FORCED);
    }

    /** The canonical buckets of group {@code g} on {@code platform}. */
    public static List<Bucket> canonical(long g, String platform) {
        List<Bucket> out = new ArrayList<>(3);
        for (Mode m : modes(platform)) {
            out.add(new Bucket(g, platform, m));
        }
        return out;
    }

    /** The canonical buckets of group {@code g} on every platform of {@code platforms}. */
    public static Set<Bucket> canonical(long g, Collection<String> platforms) {
        Set<Bucket> out = new LinkedHashSet<>();
        for (String p : platforms) {
            out.addAll(canonical(g, p));
        }
        return out;
    }

    /**
     * The platforms "all platforms" means: the seed's four, the ones present in the source and the
     * ones of registered buckets (a platform is an open set). Malformed names are dropped.
     */
    public static Set<String> platforms(Collection<String> fromSource, Collection<Bucket> registered) {
        TreeSet<String> out = new TreeSet<>(Platforms.SEED_PLATFORMS);
        for (String p : fromSource) {
            if (Platforms.isValid(p)) {
                out.add(p);
            }
        }
        for (Bucket b : registered) {
            out.add(b.platform());
        }
        return out;
    }

    /**
     * The seed's group normalisation for rebuild lists (docs/upstream.md U-GROUP): in simple run mode
     * always {@code [0]}; otherwise the positive ids without duplicates, in first-seen order, and
     * {@code [0]} when none remains.
     */
    public static List<Long> normalizeGroups(Collection<Long> ids, RunMode runMode) {
        if (runMode == RunMode.SIMPLE) {
            return List.of(0L);
        }
        LinkedHashSet<Long> out = new LinkedHashSet<>();
        if (ids != null) {
            for (Long id : ids) {
                if (id != null && id > 0) {
                    out.add(id);
                }
            }
        }
        return out.isEmpty() ? List.of(0L) : List.copyOf(out);
    }

    /** The seed's normalisation of a request's group: 0 in simple mode or when absent or not positive. */
    public static long normalizeGroup(@Nullable Long groupId, RunMode runMode) {
        if (runMode == RunMode.SIMPLE || groupId == null || groupId <= 0) {
            return 0;
        }
        return groupId;
    }
}
