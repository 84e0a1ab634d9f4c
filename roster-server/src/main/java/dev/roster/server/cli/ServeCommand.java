package dev.roster.server.cli;

import ch.qos.logback.classic.Level;
import dev.roster.server.app.Backend;
import dev.roster.server.app.EmbeddedStores;
import dev.roster.server.app.Supervisor;
import dev.roster.server.config.ConfigLoader;
import dev.roster.server.config.RosterConfig;
import dev.roster.server.http.HttpServer;
import dev.roster.server.http.Metrics;
import dev.roster.server.http.WatchConfig;
import java.io.PrintWriter;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

/**
 * {@code roster serve}: the HTTP service. Stores that are not configured are started embedded; the
 * first lines say which and where their data lives. SIGTERM stops accepting, lets in-flight requests
 * finish ({@code server.shutdown_timeout}), flushes last-used, releases the replayer lease and stops
 * the embedded servers.
 */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description = {
            "Run the HTTP service (read API, admin API, /metrics, /health/*, /openapi.json).",
            "PostgreSQL and Redis that are not configured are started embedded on free loopback ports,",
            "with their data in embedded.data_dir (default ./.roster-data), kept across restarts."
        })
final class ServeCommand extends StoreCommand {
    private static final Logger LOG = LoggerFactory.getLogger("roster.server");

    @Override
    Integer run(ConfigLoader.Loaded loaded) throws Exception {
        quietLibrariesVerboseRoster();
        PrintWriter out = out();
        RosterConfig config = loaded.config();
        out.println("roster: configuration from " + loaded.origin());
        out.flush();
        EmbeddedStores stores = EmbeddedStores.start(config, out, false);
        RosterConfig resolved = stores.resolved();
        if (!config.database().embedded()) {
            out.println("roster: PostgreSQL "
                    + dev.roster.server.config.Secrets.maskUrl(
                            resolved.database().url()));
        }
        if (!config.redis().embedded()) {
            out.println("roster: Redis "
                    + dev.roster.server.config.Secrets.maskUrl(resolved.redis().url()));
        }
        if (!config.service().selection().waitTicketSecret().configured()) {
            // Said once at start: behind a load balancer, a retry reaching another instance is refused.
            out.println("roster: selection.wait_ticket_secret is not set: wait tickets are accepted only by this"
                    + " instance (set the same secret on every instance that shares Redis)");
        }
        Supervisor supervisor = new Supervisor(resolved).start();
        Metrics metrics = new Metrics(supervisor);
        HttpServer http = new HttpServer(resolved.server(), supervisor, metrics, WatchConfig.of(resolved.watch()));
        int port;
        try {
            port = http.start();
        } catch (RuntimeException e) {
            supervisor.close();
            stores.close();
            throw new IllegalStateException(
                    "could not listen on " + resolved.server().host() + ":"
                            + resolved.server().port() + ": " + ErrorChain.describe(e),
                    e);
        }
        out.println(
                "roster: listening on http://" + hostForUrl(resolved.server().host()) + ":" + port
                        + " (admin API " + (resolved.server().adminEnabled() ? "on" : "off") + ", /v1 "
                        + (resolved.server().apiToken().isEmpty() ? "open" : "behind server.api_token") + ")");
        out.flush();

        ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().daemon().name("roster-metrics").unstarted(r));
        // Runs until the executor is shut down; each run catches its own failure.
        var unused = refresher.scheduleWithFixedDelay(
                () -> {
                    Backend b = supervisor.backend();
                    if (b != null) {
                        try {
                            metrics.refreshOutbox(b.outbox());
                        } catch (RuntimeException e) {
                            LOG.debug("event=outbox_stats_failed error=\"{}\"", e.getMessage());
                        }
                    }
                },
                0,
                2, // also the status page's replay sample interval
                TimeUnit.SECONDS);

        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = Thread.ofPlatform().name("roster-shutdown").unstarted(() -> {
            LOG.info("event=shutdown phase=begin");
            http.stop(resolved.server().shutdownTimeout());
            refresher.shutdownNow();
            supervisor.close();
            stores.close();
            LOG.info("event=shutdown phase=done");
            stopped.countDown();
        });
        Runtime.getRuntime().addShutdownHook(hook);
        stopped.await();
        return 0;
    }

    private static String hostForUrl(String host) {
        return host.contains(":") ? "[" + host + "]" : host;
    }

    /** The server logs its own events at INFO unless ROSTER_LOG_LEVEL says otherwise. */
    private static void quietLibrariesVerboseRoster() {
        if (System.getenv("ROSTER_LOG_LEVEL") != null) {
            return;
        }
        for (String name : new String[] {"roster", "dev.roster"}) {
            if (LoggerFactory.getLogger(name) instanceof ch.qos.logback.classic.Logger l) {
                l.setLevel(Level.INFO);
            }
        }
    }
}
