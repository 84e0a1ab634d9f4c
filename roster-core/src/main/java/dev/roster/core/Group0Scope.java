package dev.roster.core;

/** What group 0 means outside simple run mode ({@code scope.group0}; docs/architecture.md, "The bucket query"). */
public enum Group0Scope {
    /** Every account of the platform (the seed's meaning; default). */
    ALL,
    /** Only accounts without any group link (docs/upstream.md L7). */
    UNGROUPED
}
