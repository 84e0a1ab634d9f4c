/**
 * Real PostgreSQL and Redis servers started from binaries on Maven Central, for the server's
 * embedded default and for the test harness. Nothing here depends on a server the machine runs.
 */
package dev.roster.embedded;
