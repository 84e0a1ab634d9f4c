/**
 * The {@code roster} command line and HTTP server. Exports nothing: it is an application. The command
 * classes are open to picocli and the configuration and JSON classes to Jackson, which reach them by
 * reflection.
 */
module roster.server {
    requires roster.core;
    requires roster.embedded;
    requires roster.library;
    requires roster.postgres;
    requires roster.redis;
    requires ch.qos.logback.classic;
    requires com.fasterxml.jackson.databind;
    requires com.fasterxml.jackson.dataformat.yaml;
    requires com.fasterxml.jackson.datatype.jsr310;
    requires com.zaxxer.hikari;
    requires info.picocli;
    requires java.net.http;
    requires io.javalin;
    requires micrometer.core;
    requires micrometer.registry.prometheus;
    requires org.eclipse.jetty.ee10.servlet;
    requires org.eclipse.jetty.http;
    requires org.eclipse.jetty.io;
    requires org.eclipse.jetty.server;
    requires org.eclipse.jetty.util;
    requires org.slf4j;

    opens dev.roster.server.cli to
            info.picocli;
    opens dev.roster.server.app to
            com.fasterxml.jackson.databind;
    opens dev.roster.server.config to
            com.fasterxml.jackson.databind;
    opens dev.roster.server.http to
            com.fasterxml.jackson.databind;
}
