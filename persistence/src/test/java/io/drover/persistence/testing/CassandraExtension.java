package io.drover.persistence.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.drover.persistence.cassandra.CassandraLauncher;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5 extension for tests that need the real Cassandra. It reuses a Cassandra that already
 * answers on {@code drover.test.cassandra.port} (default 9042); otherwise it starts one, once per
 * build, under {@code <build root>/target/test-cassandra}, shared by the build's later test JVMs.
 *
 * <p>The started Cassandra holds a lease (a file per port in the temp folder) that every test JVM
 * using it renews while it runs; once nobody renewed it for {@code drover.test.cassandra.lease-seconds}
 * (180 s) it exits by itself, so even a killed build leaves no process behind for long. {@code -Ddrover.test.cassandra.keep=true} keeps it
 * running (explicit choice); {@code ./drover cassandra stop --data target/test-cassandra} stops it.
 */
public final class CassandraExtension implements BeforeAllCallback {

    public static final String TEST_KEYSPACE = "drover_test";

    private static boolean ready;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        ensureRunning();
    }

    public static int port() {
        return Integer.getInteger("drover.test.cassandra.port", 9042);
    }

    public static synchronized void ensureRunning() throws Exception {
        if (ready) {
            return;
        }
        Path root = Path.of(System.getProperty("drover.build.root", ".")).toAbsolutePath();
        Path dataDir = root.resolve("target").resolve("test-cassandra");
        // One lease per port on this machine, renewed by every test JVM that uses that Cassandra, whichever
        // build started it: a build that reuses another build's test Cassandra keeps it alive too.
        Path lease = Path.of(System.getProperty("java.io.tmpdir"), "drover-test-cassandra-" + port() + ".lease");
        boolean keep = Boolean.getBoolean("drover.test.cassandra.keep");
        CassandraLauncher.Settings settings = CassandraLauncher.Settings.of(dataDir, port()).withHeapMb(384);
        if (!keep) {
            settings = settings.withLease(lease, Integer.getInteger("drover.test.cassandra.lease-seconds", 180));
        }
        CassandraLauncher launcher = new CassandraLauncher(settings);
        if (!launcher.answers()) {
            launcher.start();
        }
        if (!keep) {
            Thread renew = new Thread(() -> {
                while (true) {
                    CassandraLauncher.touch(lease);
                    try {
                        Thread.sleep(10_000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "cassandra-lease");
            renew.setDaemon(true);
            renew.start();
        }
        ready = true;
    }

    /** Config for an ActorSystem on the test Cassandra and the given keyspace, over {@code base}. */
    public static Config config(String keyspace, Config base) {
        return ConfigFactory.parseMap(Map.of(
                        "drover.persistence.contact-point", "127.0.0.1:" + port(),
                        "drover.persistence.keyspace", keyspace))
                .withFallback(base)
                .resolve();
    }
}
