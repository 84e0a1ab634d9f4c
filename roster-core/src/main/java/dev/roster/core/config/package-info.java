/** Immutable, validated configuration records with sub2api's key names and defaults. */
package dev.roster.core.config;
