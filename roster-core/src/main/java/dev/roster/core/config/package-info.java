/** Immutable, validated configuration records with sub2api's key names and defaults. */
@NullMarked
package dev.roster.core.config;

import org.jspecify.annotations.NullMarked;
