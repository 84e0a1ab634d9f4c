/** Roster embedded module. */
package dev.roster.embedded;
