/**
 * Real servers started from binaries shipped in Maven artifacts, for the server's embedded default and
 * for the test kit: {@link dev.roster.embedded.EmbeddedRedis} (standalone, cluster node or sentinel)
 * and the minimal {@link dev.roster.embedded.RespConnection} used to drive it.
 */
package dev.roster.embedded;
