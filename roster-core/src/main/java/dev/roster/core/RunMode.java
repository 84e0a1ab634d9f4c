package dev.roster.core;

/** sub2api's {@code run_mode}: in {@link #SIMPLE} every bucket is group 0 with scope {@code all}. */
public enum RunMode {
    STANDARD,
    SIMPLE
}
