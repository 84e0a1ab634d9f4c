/**
 * The audit (docs/architecture.md, "The audit"): the projection checked against the bucket query over the
 * source of truth.
 */
@NullMarked
package dev.roster.core.audit;

import org.jspecify.annotations.NullMarked;
