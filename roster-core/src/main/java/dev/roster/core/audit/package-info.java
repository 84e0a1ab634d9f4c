/**
 * The audit (docs/architecture.md, "The audit"): the projection checked against the bucket query over the
 * source of truth.
 */
package dev.roster.core.audit;
