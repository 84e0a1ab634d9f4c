/**
 * Real PostgreSQL and Redis servers from the binaries published on Maven Central (the zonky
 * PostgreSQL archives, the embedded-redis executables), read as resources: no code of those jars is
 * called, so they are not required here.
 */
module roster.embedded {
    requires transitive org.jspecify;
    requires org.apache.commons.compress;
    requires org.slf4j;

    exports dev.roster.embedded;
}
