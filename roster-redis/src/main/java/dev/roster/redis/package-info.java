/** Roster redis module. */
@NullMarked
package dev.roster.redis;

import org.jspecify.annotations.NullMarked;
