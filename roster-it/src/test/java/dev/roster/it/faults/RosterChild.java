package dev.roster.it.faults;

import com.zaxxer.hikari.HikariDataSource;
import dev.roster.core.service.SnapshotService;
import dev.roster.postgres.Databases;
import dev.roster.postgres.DeadLetterRepository;
import dev.roster.postgres.OutboxListener;
import dev.roster.postgres.PostgresDeadLetterSink;
import dev.roster.postgres.PostgresSchedulingSource;
import dev.roster.redis.RedisConnectionOptions;
import dev.roster.redis.RedisProjection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A Roster instance in a process of its own, for the scenarios that kill the replayer with SIGKILL.
 * Wired like {@code dev.roster.Roster} (PostgreSQL source and dead-letter table, Redis projection, LISTEN
 * wake-up, started service), except that the projection is a {@link GatedProjection} so the parent can
 * stop it at an exact point of a batch.
 *
 * <p>Arguments: {@code jdbcUrl user password redisUri keyPrefix controlDir gate}. It talks to the test
 * through files in {@code controlDir}: it writes {@code ready} once its projection is ready and it holds
 * the replayer lease; it arms the gate when {@code arm} appears; at the gate it writes {@code reached} and
 * waits until {@code release} appears (or it is killed). It runs until killed; SIGTERM closes it cleanly
 * (lease released), which is the graceful hand-over.
 */
public final class RosterChild {
    private RosterChild() {}

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String user = args[1];
        String password = args[2];
        String redisUri = args[3];
        String prefix = args[4];
        Path dir = Path.of(args[5]);
        String gate = args[6];

        HikariDataSource ds = Databases.pool(url, user, password, 4);
        RedisProjection redis = RedisProjection.connect(
                RedisConnectionOptions.of(redisUri).withCommandTimeout(Duration.ofSeconds(1)),
                prefix,
                FaultEnv.CONFIG.projection().grace());
        GatedProjection projection = new GatedProjection(redis, gate, () -> {
            touch(dir.resolve("reached"));
            System.out.println("child: at gate " + gate);
            while (!Files.exists(dir.resolve("release"))) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }
            System.out.println("child: released from gate " + gate);
        });
        SnapshotService service = SnapshotService.newBuilder()
                .source(new PostgresSchedulingSource(ds))
                .projection(projection)
                .config(FaultEnv.CONFIG)
                .deadLetters(new PostgresDeadLetterSink(new DeadLetterRepository(ds)))
                .build()
                .start();
        OutboxListener listener =
                OutboxListener.start(() -> DriverManager.getConnection(url, user, password), service::wake);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            listener.close();
            service.close();
            redis.close();
            ds.close();
        }));
        System.out.println("child: started, gate " + gate);
        boolean announced = false;
        boolean armed = false;
        // The control loop of a test fixture: polls its control files, nothing else.
        while (true) {
            if (!announced && service.ready() && service.isReplayer()) {
                touch(dir.resolve("ready"));
                announced = true;
                System.out.println("child: ready and replaying");
            }
            if (!armed && Files.exists(dir.resolve("arm"))) {
                projection.arm();
                armed = true;
                System.out.println("child: gate armed");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    static void touch(Path p) {
        try {
            Files.writeString(p, "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
