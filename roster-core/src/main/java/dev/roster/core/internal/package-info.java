/**
 * Implementation of the snapshot service shared by its packages: bucket rebuilds, the generation
 * state, the bucket universe and the fallback limiter. Not API: types here may change at any time.
 */
@NullMarked
package dev.roster.core.internal;

import org.jspecify.annotations.NullMarked;
