/** The audit (design §1): the projection checked against the bucket query over the source of truth. */
package dev.roster.core.audit;
