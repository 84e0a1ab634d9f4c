/**
 * Roster's benchmarks: JMH micro benchmarks (each with its baseline arm) and measurement mains. Build
 * with {@code ./mvnw -B -pl roster-bench -am package -DskipTests} and run {@code java -jar
 * roster-bench/target/benchmarks.jar}.
 */
@NullMarked
package dev.roster.bench;

import org.jspecify.annotations.NullMarked;
