/**
 * The {@code roster} command line: the root command and one class per subcommand ({@code serve},
 * {@code demo}, {@code bench}, {@code migrate}, {@code rebuild}, {@code outbox}, {@code buckets},
 * {@code audit}), with the configuration loading they share ({@code StoreCommand}).
 */
@NullMarked
package dev.roster.server.cli;

import org.jspecify.annotations.NullMarked;
