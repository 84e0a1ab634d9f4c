/** The Roster server: command line, wiring, the embedded default and the demo. */
package dev.roster.server;
