/** The embeddable library: {@link dev.roster.Roster} and {@link dev.roster.RosterAdmin}. */
module roster.library {
    requires transitive roster.core;
    requires transitive roster.postgres;
    requires transitive roster.redis;

    exports dev.roster;
}
