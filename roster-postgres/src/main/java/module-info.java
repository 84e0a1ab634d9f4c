/**
 * The PostgreSQL side: the schema and its capture triggers (Flyway migrations), the scheduling source
 * and outbox of the core's ports, the repositories and the outbox listener.
 */
module roster.postgres {
    requires transitive roster.core;
    requires transitive java.sql;
    requires com.fasterxml.jackson.databind;
    requires transitive com.zaxxer.hikari;
    requires flyway.core;
    requires org.postgresql.jdbc;
    requires org.slf4j;

    exports dev.roster.postgres;
}
