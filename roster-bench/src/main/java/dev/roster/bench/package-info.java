/** Roster bench module. */
package dev.roster.bench;
