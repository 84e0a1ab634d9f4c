/**
 * An oracle for the bucket query Q (docs/architecture.md, "The bucket query") that shares nothing with the code under
 * test: it reads the raw rows of {@code accounts}, {@code groups} and {@code account_groups} ({@link PoolRows}),
 * computes Q and the set of buckets that must exist in plain Java ({@link BucketOracle}), and compares
 * production answers with it ({@link OracleDiff}). It deliberately does not use the production SQL,
 * {@code Universe}, {@code TimeFilter} or the card mapper, so a wrong filter, join, order, mixed rule or
 * card attribute there shows up as a difference here.
 */
@NullMarked
package dev.roster.testkit.oracle;

import org.jspecify.annotations.NullMarked;
