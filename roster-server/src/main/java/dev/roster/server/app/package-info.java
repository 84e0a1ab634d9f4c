/**
 * The server's wiring: the backend it serves from (the library, with embedded or external stores) and
 * the supervisor that starts and stops it.
 */
@NullMarked
package dev.roster.server.app;

import org.jspecify.annotations.NullMarked;
