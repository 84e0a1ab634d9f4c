/**
 * In-memory fakes of the core's ports ({@code Projection}, {@code SelectionStore}, {@code
 * CandidateSource}, {@code UsageLedger}), for tests only: no production module depends on this
 * module. The projection and selection-store fakes pass the same contract suites as the Redis
 * implementations.
 */
@NullMarked
package dev.roster.testkit.fake;

import org.jspecify.annotations.NullMarked;
