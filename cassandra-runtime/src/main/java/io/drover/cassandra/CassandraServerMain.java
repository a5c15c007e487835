package io.drover.cassandra;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * Main class of the forked Cassandra JVM. It starts {@code CassandraDaemon} in this JVM and, when
 * {@code -Ddrover.cassandra.lease-file} is set, exits once nobody has renewed that lease for
 * {@code -Ddrover.cassandra.lease-seconds}: a Cassandra started for a test build then never
 * outlives the build by more than that, even when the build is killed.
 *
 * <p>Loaded reflectively so this class compiles without Cassandra on the classpath.
 */
public final class CassandraServerMain {

    private CassandraServerMain() {}

    public static void main(String[] args) throws Exception {
        String lease = System.getProperty("drover.cassandra.lease-file");
        if (lease != null && !lease.isBlank()) {
            long seconds = Long.getLong("drover.cassandra.lease-seconds", 180L);
            startLeaseWatchdog(Path.of(lease), Duration.ofSeconds(seconds));
        }
        Class<?> daemon = Class.forName("org.apache.cassandra.service.CassandraDaemon");
        daemon.getMethod("main", String[].class).invoke(null, (Object) args);
    }

    private static void startLeaseWatchdog(Path leaseFile, Duration idle) {
        Thread t = new Thread(() -> {
            while (true) {
                try {
                    Thread.sleep(5_000);
                    Instant last = Files.exists(leaseFile)
                            ? Files.getLastModifiedTime(leaseFile).toInstant()
                            : Instant.EPOCH;
                    if (Duration.between(last, Instant.now()).compareTo(idle) > 0) {
                        System.err.println("drover: lease " + leaseFile + " expired, stopping Cassandra");
                        System.exit(0);
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (IOException e) {
                    // lease file unreadable: keep running, try again
                }
            }
        }, "drover-lease-watchdog");
        t.setDaemon(true);
        t.start();
    }
}
