/** Roster server module. */
package dev.roster.server;
