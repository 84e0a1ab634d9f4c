package dev.roster.core.nearcache;

/**
 * Which generations the near cache may serve, and how it learns of a new one.
 *
 * <p>{@link #accepts} is a pure predicate: the cache calls it inside its ordering lock and on the
 * projection client's I/O thread, so it must not block or read a store. {@link #adoptIfStored} is the
 * only place a new generation may be learned; the cache calls it only on paths that read the
 * projection anyway (a load, a refresh after an invalidation, the periodic check), never from {@link
 * NearCache#get}.
 */
@FunctionalInterface
public interface GenerationGate {

    /** Whether a snapshot stamped {@code generation} may be served now. No I/O, never blocks. */
    boolean accepts(String generation);

    /**
     * Whether a snapshot stamped {@code generation} may be served, after adopting {@code generation}
     * when it is the stored one (another instance built it). May read the projection. The default
     * knows no store and only asks {@link #accepts}.
     *
     * @throws dev.roster.core.projection.ProjectionException when the projection cannot be read
     */
    default boolean adoptIfStored(String generation) {
        return accepts(generation);
    }
}
