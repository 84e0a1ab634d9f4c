/**
 * Real servers started from binaries shipped in Maven artifacts, for the server's embedded default and
 * for the test kit: {@link dev.roster.embedded.EmbeddedPostgres}, {@link dev.roster.embedded.EmbeddedRedis}
 * (standalone, cluster node or sentinel) and the minimal {@link dev.roster.embedded.RespConnection} used
 * to drive Redis. Nothing here depends on a server the machine runs.
 */
@NullMarked
package dev.roster.embedded;

import org.jspecify.annotations.NullMarked;
