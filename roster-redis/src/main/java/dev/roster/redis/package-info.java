/** Roster redis module. */
package dev.roster.redis;
