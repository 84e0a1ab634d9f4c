/**
 * The snapshot service: the hot path ({@code list}, {@code getAccount}) over the projection with a
 * guarded database fallback, the replayer and full rebuild it runs, and the audit.
 */
@NullMarked
package dev.roster.core.service;

import org.jspecify.annotations.NullMarked;
