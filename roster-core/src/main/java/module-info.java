/**
 * The scheduling core: the domain types, the ports ({@code source}, {@code outbox}, {@code projection},
 * {@code selection}), the snapshot service, replay, the near cache and the audit. {@code
 * dev.roster.core.internal} is not exported: it is the wiring between those packages, not an API.
 */
module roster.core {
    requires transitive org.jspecify;
    requires org.slf4j;

    exports dev.roster.core;
    exports dev.roster.core.audit;
    exports dev.roster.core.config;
    exports dev.roster.core.nearcache;
    exports dev.roster.core.outbox;
    exports dev.roster.core.pool;
    exports dev.roster.core.projection;
    exports dev.roster.core.replay;
    exports dev.roster.core.selection;
    exports dev.roster.core.service;
    exports dev.roster.core.source;
    exports dev.roster.core.status;
    exports dev.roster.core.watch;
}
