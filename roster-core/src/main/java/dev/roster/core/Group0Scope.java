package dev.roster.core;

/** What group 0 means outside simple run mode (design §1; {@code scope.group0}). */
public enum Group0Scope {
    /** Every account of the platform (the seed's meaning; default). */
    ALL,
    /** Only accounts without any group link (upstream #733). */
    UNGROUPED
}
