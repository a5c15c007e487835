package io.drover.node;

import io.drover.persistence.testing.CassandraExtension;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Drover node in a process of its own on the test Cassandra and keyspace, so a test can {@code kill -9} or
 * {@code SIGSTOP} it. Either a dev-mode node on its own, or a member of a cluster of processes ({@link #cluster}):
 * node mode, Cluster Bootstrap over config discovery of the members' management ports, as
 * {@code ./drover cluster start} runs them. Uses this JVM's classpath; fixed ports so a restart comes back on
 * the same ones.
 */
final class NodeProcess implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    final int httpPort;
    final int mqttPort;
    final int remotePort;
    final int managementPort;
    private final Path dir;
    private final String mode;
    private final Map<String, String> env = new HashMap<>();
    private Process process;

    NodeProcess(Path dir) throws Exception {
        this(dir, "dev");
    }

    private NodeProcess(Path dir, String mode) throws Exception {
        this.dir = dir;
        this.mode = mode;
        this.httpPort = TestNodes.freePort();
        this.mqttPort = TestNodes.freePort();
        this.remotePort = TestNodes.freePort();
        this.managementPort = TestNodes.freePort();
    }

    /** {@code n} members of one cluster (not started), each with its folder under {@code base}. */
    static List<NodeProcess> cluster(Path base, int n) throws Exception {
        List<NodeProcess> nodes = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            nodes.add(new NodeProcess(base.resolve("node-" + i), "node"));
        }
        String endpoints = String.join(",", nodes.stream().map(p -> "127.0.0.1:" + p.managementPort).toList());
        for (NodeProcess p : nodes) {
            p.env.put("DROVER_BOOTSTRAP_ENDPOINTS", endpoints);
            p.env.put("DROVER_REQUIRED_CONTACT_POINTS", Integer.toString(n));
            p.env.put("DROVER_MANAGEMENT_PORT", Integer.toString(p.managementPort));
            p.env.put("DROVER_MANAGEMENT_HOST", "127.0.0.1");
            p.env.put("DROVER_REMOTE_HOST", "127.0.0.1");
            p.env.put("DROVER_HTTP_INTERFACE", "127.0.0.1");
            p.env.put("DROVER_MQTT_BIND", "127.0.0.1");
            p.env.put("DROVER_CASSANDRA_REPLICATION", "{'class': 'SimpleStrategy', 'replication_factor': 1}");
        }
        return nodes;
    }

    /** Starts the process; waits until it serves (a cluster member: until its management says ready). */
    void start() throws Exception {
        launch();
        awaitServing();
    }

    /** Starts the process without waiting (members of a new cluster must start together). */
    void launch() throws Exception {
        Files.createDirectories(dir);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName(), mode));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("node.log").toFile()));
        Map<String, String> e = pb.environment();
        e.put("DROVER_HTTP_PORT", Integer.toString(httpPort));
        e.put("DROVER_MQTT_PORT", Integer.toString(mqttPort));
        e.put("DROVER_REMOTE_PORT", Integer.toString(remotePort));
        e.put("DROVER_DATA_DIR", dir.toString());
        e.put("DROVER_CASSANDRA_KEYSPACE", CassandraExtension.TEST_KEYSPACE);
        e.put("DROVER_CASSANDRA_CONTACT_POINT", "127.0.0.1:" + CassandraExtension.port());
        e.put("DROVER_LOG_LEVEL", "WARN");
        e.putAll(env);
        process = pb.start();
    }

    void awaitServing() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (!serving()) {
            if (!process.isAlive()) {
                throw new IllegalStateException("node process died; see " + dir.resolve("node.log"));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("node process did not come up; see " + dir.resolve("node.log"));
            }
            Thread.sleep(100);
        }
    }

    private boolean serving() {
        if (mode.equals("dev")) {
            return open(httpPort) && open(mqttPort);
        }
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/health/ready"))
                    .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (Exception e) {
            return false;
        }
    }

    /** SIGKILL: no shutdown hook, no drain, no goodbye. */
    void kill9() throws Exception {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGSTOP / SIGCONT: the process freezes (a partitioned or hung node) and resumes. */
    void signal(String name) throws Exception {
        Process k = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
            throw new IllegalStateException("kill -" + name + " failed");
        }
    }

    /** SIGTERM and wait for the coordinated shutdown to end the process; true when it did within the time. */
    boolean stopGracefully(Duration timeout) throws InterruptedException {
        process.destroy();
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    boolean isAlive() {
        return process != null && process.isAlive();
    }

    boolean waitForExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    Path log() {
        return dir.resolve("node.log");
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
