/** Roster postgres module. */
package dev.roster.postgres;
