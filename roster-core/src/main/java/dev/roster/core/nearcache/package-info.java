/**
 * The per-instance near cache of bucket snapshots (docs/architecture.md, "Near cache and the library"): the hot path's
 * first tier, refreshed by the projection's invalidations and a periodic version check, serving from memory through
 * projection outages up to {@code near_cache.max_stale}.
 */
@NullMarked
package dev.roster.core.nearcache;

import org.jspecify.annotations.NullMarked;
