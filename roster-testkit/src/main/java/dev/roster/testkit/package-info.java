/** Roster testkit module. */
package dev.roster.testkit;
