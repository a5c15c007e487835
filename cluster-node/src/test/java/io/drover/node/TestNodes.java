package io.drover.node;

import com.typesafe.config.ConfigFactory;
import io.drover.persistence.testing.CassandraExtension;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Whole nodes for tests: dev-mode config on the test Cassandra and keyspace, every port free. */
final class TestNodes {

    private TestNodes() {}

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static Main.Started start(Map<String, Object> extra) throws Exception {
        Map<String, Object> overrides = new HashMap<>(Map.of(
                "drover.persistence.contact-point", "127.0.0.1:" + CassandraExtension.port(),
                "drover.persistence.keyspace", CassandraExtension.TEST_KEYSPACE,
                "drover.http.port", 0,
                "drover.mqtt.embedded.port", freePort(),
                "drover.node.data-dir", Path.of("target", "test-node").toAbsolutePath().toString(),
                "pekko.remote.artery.canonical.port", freePort(),
                "pekko.coordinated-shutdown.exit-jvm", "off"));
        overrides.putAll(extra);
        return Main.start(Main.config("dev", ConfigFactory.parseMap(overrides)), Duration.ofMinutes(3));
    }

    static void stop(Main.Started node) throws Exception {
        node.system().terminate();
        node.system().getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}
