/**
 * The scheduling pool in memory, kept by the lease holder's replay thread: every live account's card
 * and every live group, with the bucket query computed from them ({@link dev.roster.core.pool.PoolModel}).
 */
@NullMarked
package dev.roster.core.pool;

import org.jspecify.annotations.NullMarked;
