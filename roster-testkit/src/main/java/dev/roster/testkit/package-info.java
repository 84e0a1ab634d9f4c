/**
 * Real-server test harnesses (embedded PostgreSQL, and Redis standalone, Cluster and Sentinel, reached
 * through an in-JVM {@link dev.roster.testkit.TcpProxy} for pause and partition faults), fixtures, and
 * in {@code contract} the contract suites every implementation of a port must pass, and in {@code fake}
 * in-memory fakes of the core's ports.
 */
@NullMarked
package dev.roster.testkit;

import org.jspecify.annotations.NullMarked;
