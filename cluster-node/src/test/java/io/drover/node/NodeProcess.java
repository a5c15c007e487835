package io.drover.node;

import io.drover.persistence.testing.CassandraExtension;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Drover node in a process of its own (dev mode on the test Cassandra and keyspace), so a test can
 * {@code kill -9} it. Uses this JVM's classpath; fixed ports so a restart comes back on the same ones.
 */
final class NodeProcess implements AutoCloseable {

    final int httpPort;
    final int mqttPort;
    final int remotePort;
    private final Path dir;
    private Process process;

    NodeProcess(Path dir) throws Exception {
        this.dir = dir;
        this.httpPort = TestNodes.freePort();
        this.mqttPort = TestNodes.freePort();
        this.remotePort = TestNodes.freePort();
    }

    void start() throws Exception {
        Files.createDirectories(dir);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "dev"));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("node.log").toFile()));
        Map<String, String> env = pb.environment();
        env.put("DROVER_HTTP_PORT", Integer.toString(httpPort));
        env.put("DROVER_MQTT_PORT", Integer.toString(mqttPort));
        env.put("DROVER_REMOTE_PORT", Integer.toString(remotePort));
        env.put("DROVER_DATA_DIR", dir.toString());
        env.put("DROVER_CASSANDRA_KEYSPACE", CassandraExtension.TEST_KEYSPACE);
        env.put("DROVER_CASSANDRA_CONTACT_POINT", "127.0.0.1:" + CassandraExtension.port());
        env.put("DROVER_LOG_LEVEL", "WARN");
        process = pb.start();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (!(open(httpPort) && open(mqttPort))) {
            if (!process.isAlive()) {
                throw new IllegalStateException("node process died; see " + dir.resolve("node.log"));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("node process did not come up; see " + dir.resolve("node.log"));
            }
            Thread.sleep(100);
        }
    }

    /** SIGKILL: no shutdown hook, no drain, no goodbye. */
    void kill9() throws Exception {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    private static boolean open(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() throws Exception {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
