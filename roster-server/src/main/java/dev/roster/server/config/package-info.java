/**
 * The server configuration: the YAML file and the {@code ROSTER_*} environment variables, their keys,
 * parsing and validation, and the handling of secrets in it.
 */
@NullMarked
package dev.roster.server.config;

import org.jspecify.annotations.NullMarked;
