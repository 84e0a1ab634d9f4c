/** The embeddable library: {@link dev.roster.Roster} and {@link dev.roster.RosterAdmin}. */
module roster.library {
    requires transitive roster.core;
    requires transitive roster.postgres;
    requires transitive roster.redis;
    requires org.slf4j;

    exports dev.roster;
}
