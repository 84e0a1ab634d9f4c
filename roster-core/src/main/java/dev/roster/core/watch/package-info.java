/**
 * Watching answers: {@link dev.roster.core.watch.AnswerFeed} tells listeners when what {@code list}
 * answers for a bucket changes (a new version in the near cache, a retire, a time-window boundary), so a
 * caller can keep its own copy without polling. The HTTP watch stream ({@code GET /v1/watch}) is built on
 * it; see docs/architecture.md and decisions W1-W8 in docs/decisions.md.
 */
@NullMarked
package dev.roster.core.watch;

import org.jspecify.annotations.NullMarked;
