/**
 * Account selection on top of the snapshot service (docs/upstream.md U-SEL): {@link
 * dev.roster.core.selection.Selector} picks the account for one request in sub2api's three layers
 * (sticky session, load-aware priority order, fallback wait plan), holding a concurrency slot in a
 * {@link dev.roster.core.selection.SelectionStore} shared by every instance, and turns upstream
 * outcomes into cooldowns that only ever extend. The selector reads the bucket through its own small
 * {@link dev.roster.core.selection.CandidateSource} port, so it does not depend on how the snapshot
 * service is assembled. {@code roster-redis} holds the shared store; in-memory fakes of every port, for
 * tests, live in {@code roster-testkit} ({@code dev.roster.testkit.fake}).
 */
@NullMarked
package dev.roster.core.selection;

import org.jspecify.annotations.NullMarked;
