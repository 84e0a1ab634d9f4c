/**
 * The end-to-end benchmark: scenarios against real stores and the server, and the report with its plots.
 */
@NullMarked
package dev.roster.bench.e2e;

import org.jspecify.annotations.NullMarked;
