/**
 * Account selection on top of the snapshot service (design §6, upstream-behaviour §8): {@link
 * dev.roster.core.selection.Selector} picks the account for one request in sub2api's three layers
 * (sticky session, load-aware priority order, fallback wait plan), holding a concurrency slot in a
 * {@link dev.roster.core.selection.SelectionStore} shared by every instance, and turns upstream
 * outcomes into cooldowns that only ever extend. The selector reads the bucket through its own small
 * {@link dev.roster.core.selection.CandidateSource} port, so it does not depend on how the snapshot
 * service is assembled. In-memory implementations of every port live here for tests and single-process
 * use; {@code roster-redis} holds the shared store.
 */
package dev.roster.core.selection;
