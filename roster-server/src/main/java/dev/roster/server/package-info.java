/** The Roster server: the jar's entry point ({@code Main}); the command line is in {@code cli}, wiring in {@code app}, configuration in {@code config}, the HTTP API in {@code http}. */
@NullMarked
package dev.roster.server;

import org.jspecify.annotations.NullMarked;
