/**
 * The HTTP API: routes for reads, selection, status, watch and admin, their JSON shapes and errors, the
 * OpenAPI document and the metrics endpoint.
 */
@NullMarked
package dev.roster.server.http;

import org.jspecify.annotations.NullMarked;
