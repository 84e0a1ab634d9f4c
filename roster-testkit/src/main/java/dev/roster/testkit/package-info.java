/**
 * The real-server test harness (embedded PostgreSQL and Redis, fault controls, a TCP proxy), contract
 * test suites for the ports, fakes and fixtures.
 */
package dev.roster.testkit;
