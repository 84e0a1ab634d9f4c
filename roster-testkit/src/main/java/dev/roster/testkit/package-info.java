/**
 * Real-server test harnesses (embedded PostgreSQL, and Redis standalone, Cluster and Sentinel, reached
 * through an in-JVM {@link dev.roster.testkit.TcpProxy} for pause and partition faults), fixtures, and
 * in {@code contract} the contract suites every implementation of a port must pass.
 */
package dev.roster.testkit;
