/**
 * Contract suites: abstract JUnit 5 test classes that every implementation of a port extends, so the
 * in-memory fakes and the real adapters are held to the same behaviour.
 */
@NullMarked
package dev.roster.testkit.contract;

import org.jspecify.annotations.NullMarked;
