package io.drover.persistence.cassandra;

import io.drover.cassandra.CassandraServerMain;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs Apache Cassandra 5.0 (from the {@code cassandra-all} artifact) in a forked JVM with a
 * generated single-node configuration under a data folder. Used by dev mode, by the test suite and
 * from the command line ({@code ./drover cassandra start|stop|status}).
 *
 * <p>The forked JVM needs Java 11 or 17 (Cassandra 5.0 fails on 21+): the launcher uses the
 * current JVM when it fits, else {@code DROVER_CASSANDRA_JAVA_HOME}, else a JDK 17/11 found under
 * {@code /usr/lib/jvm}.
 */
public final class CassandraLauncher {

    private static final Logger log = LoggerFactory.getLogger(CassandraLauncher.class);

    /**
     * @param dataDir folder for config, data, logs and the pid file
     * @param leaseFile when present, Cassandra exits once this file has not been touched for
     *     {@code leaseSeconds} (used by tests so a killed build leaves nothing behind)
     */
    public record Settings(
            Path dataDir, String host, int cqlPort, int storagePort, int heapMb,
            Optional<Path> leaseFile, int leaseSeconds, Duration startTimeout) {

        public static Settings of(Path dataDir, int cqlPort) {
            return new Settings(dataDir, "127.0.0.1", cqlPort, cqlPort == 9042 ? 7000 : cqlPort + 1, 512,
                    Optional.empty(), 180, Duration.ofSeconds(180));
        }

        public Settings withHeapMb(int mb) {
            return new Settings(dataDir, host, cqlPort, storagePort, mb, leaseFile, leaseSeconds, startTimeout);
        }

        public Settings withLease(Path file, int seconds) {
            return new Settings(dataDir, host, cqlPort, storagePort, heapMb, Optional.of(file), seconds, startTimeout);
        }

        Path pidFile() {
            return dataDir.resolve("cassandra.pid");
        }

        Path logFile() {
            return dataDir.resolve("logs").resolve("cassandra.out");
        }
    }

    /** What {@link #start} found or did. */
    public enum StartResult { ALREADY_RUNNING, STARTED }

    private final Settings settings;

    public CassandraLauncher(Settings settings) {
        this.settings = settings;
    }

    public Settings settings() {
        return settings;
    }

    /** True when something accepts connections on the CQL port. */
    public boolean answers() {
        return portOpen(settings.host(), settings.cqlPort());
    }

    public static boolean portOpen(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Starts Cassandra unless the CQL port already answers; returns once CQL answers. */
    public StartResult start() throws IOException, InterruptedException {
        if (answers()) {
            return StartResult.ALREADY_RUNNING;
        }
        Optional<ProcessHandle> stale = runningProcess();
        if (stale.isPresent()) {
            log.info("Cassandra pid {} is starting already; waiting for CQL", stale.get().pid());
            awaitCql(stale.get());
            return StartResult.ALREADY_RUNNING;
        }
        Path logs = settings.dataDir().resolve("logs");
        Files.createDirectories(logs);
        Path yaml = writeConfig();
        Path logback = writeLogback();
        settings.leaseFile().ifPresent(CassandraLauncher::touch);

        List<String> cmd = new ArrayList<>();
        cmd.add(javaExecutable().toString());
        cmd.add("-Xms" + settings.heapMb() + "m");
        cmd.add("-Xmx" + settings.heapMb() + "m");
        cmd.add("-Xss512k");
        cmd.add("-XX:+UseG1GC");
        cmd.add("-XX:+HeapDumpOnOutOfMemoryError");
        cmd.add("-XX:HeapDumpPath=" + logs);
        // GC pauses stall every write; their log (bounded: 3 files of 5 MB) is how a latency tail is explained.
        cmd.add("-Xlog:gc:file=" + logs.resolve("gc.log") + ":time,uptime:filecount=3,filesize=5m");
        // The three module flags Cassandra 5.0 needs on Java 17 (see ../shared/FACTS.md).
        cmd.add("--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED");
        cmd.add("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED");
        cmd.add("--add-opens=java.base/java.io=ALL-UNNAMED");
        cmd.add("-Djava.net.preferIPv4Stack=true");
        cmd.add("-Dcassandra.config=" + yaml.toUri());
        cmd.add("-Dcassandra.storagedir=" + settings.dataDir().resolve("data"));
        cmd.add("-Dcassandra.logdir=" + logs);
        cmd.add("-Dlogback.configurationFile=" + logback);
        cmd.add("-Dcassandra-foreground=yes");
        cmd.add("-Dcassandra.skip_wait_for_gossip_to_settle=0");
        cmd.add("-Dcassandra.superuser_setup_delay_ms=0");
        settings.leaseFile().ifPresent(f -> {
            cmd.add("-Ddrover.cassandra.lease-file=" + f);
            cmd.add("-Ddrover.cassandra.lease-seconds=" + settings.leaseSeconds());
        });
        cmd.add("-cp");
        cmd.add(classpath());
        cmd.add(CassandraServerMain.class.getName());

        Instant began = Instant.now();
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(settings.logFile().toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .start();
        Files.writeString(settings.pidFile(), Long.toString(p.pid()));
        log.info("Cassandra starting: pid {}, CQL {}:{}, data {}, log {}", p.pid(), settings.host(),
                settings.cqlPort(), settings.dataDir(), settings.logFile());
        awaitCql(p.toHandle());
        log.info("Cassandra answers on {}:{} after {} ms", settings.host(), settings.cqlPort(),
                Duration.between(began, Instant.now()).toMillis());
        return StartResult.STARTED;
    }

    private void awaitCql(ProcessHandle process) throws InterruptedException, IOException {
        Instant deadline = Instant.now().plus(settings.startTimeout());
        while (!answers()) {
            if (!process.isAlive()) {
                throw new IOException("Cassandra exited during start; see " + settings.logFile() + ":\n"
                        + tail(settings.logFile(), 30));
            }
            if (Instant.now().isAfter(deadline)) {
                process.destroy();
                throw new IOException("Cassandra did not answer on port " + settings.cqlPort() + " within "
                        + settings.startTimeout() + "; see " + settings.logFile());
            }
            Thread.sleep(250);
        }
    }

    /** Stops the Cassandra this data folder's pid file names (SIGTERM, then SIGKILL after 60 s). */
    public boolean stop() throws InterruptedException {
        Optional<ProcessHandle> p = runningProcess();
        if (p.isEmpty()) {
            return false;
        }
        ProcessHandle h = p.get();
        h.destroy();
        Instant deadline = Instant.now().plusSeconds(60);
        while (h.isAlive() && Instant.now().isBefore(deadline)) {
            Thread.sleep(200);
        }
        if (h.isAlive()) {
            h.destroyForcibly();
        }
        try {
            Files.deleteIfExists(settings.pidFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return true;
    }

    /** The live Cassandra process started for this data folder, if any. */
    public Optional<ProcessHandle> runningProcess() {
        try {
            if (!Files.exists(settings.pidFile())) {
                return Optional.empty();
            }
            long pid = Long.parseLong(Files.readString(settings.pidFile()).trim());
            return ProcessHandle.of(pid)
                    .filter(ProcessHandle::isAlive)
                    // a recycled pid would belong to another program: only a JVM can be ours
                    .filter(h -> h.info().command().map(c -> c.endsWith("java")).orElse(true));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    public static void touch(Path file) {
        try {
            if (Files.exists(file)) {
                Files.setLastModifiedTime(file, FileTime.from(Instant.now()));
            } else {
                Files.createDirectories(file.getParent());
                Files.writeString(file, "lease");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------- config files

    private Path writeConfig() throws IOException {
        Path conf = settings.dataDir().resolve("conf");
        Files.createDirectories(conf);
        Path data = settings.dataDir().resolve("data");
        String yaml = String.join("\n",
                "# Generated by Drover's CassandraLauncher; rewritten at every start.",
                "cluster_name: 'Drover Dev'",
                "num_tokens: 1",
                "partitioner: org.apache.cassandra.dht.Murmur3Partitioner",
                "endpoint_snitch: SimpleSnitch",
                "commitlog_sync: periodic",
                "commitlog_sync_period: 10000ms",
                "commitlog_segment_size: 32MiB",
                "commitlog_total_space: 512MiB",
                "seed_provider:",
                "  - class_name: org.apache.cassandra.locator.SimpleSeedProvider",
                "    parameters:",
                "      - seeds: \"" + settings.host() + ":" + settings.storagePort() + "\"",
                "listen_address: " + settings.host(),
                "rpc_address: " + settings.host(),
                "storage_port: " + settings.storagePort(),
                "native_transport_port: " + settings.cqlPort(),
                "start_native_transport: true",
                "data_file_directories:",
                "  - " + data.resolve("data"),
                "commitlog_directory: " + data.resolve("commitlog"),
                "saved_caches_directory: " + data.resolve("saved_caches"),
                "hints_directory: " + data.resolve("hints"),
                "cdc_raw_directory: " + data.resolve("cdc_raw"),
                "auto_snapshot: false",
                "snapshot_before_compaction: false",
                "authenticator: AllowAllAuthenticator",
                "authorizer: AllowAllAuthorizer",
                "dynamic_snitch: false",
                "concurrent_reads: 16",
                "concurrent_writes: 32",
                "memtable_allocation_type: heap_buffers",
                "");
        Path file = conf.resolve("cassandra.yaml");
        Files.writeString(file, yaml, StandardCharsets.UTF_8);
        return file;
    }

    private Path writeLogback() throws IOException {
        Path file = settings.dataDir().resolve("conf").resolve("logback.xml");
        Files.writeString(file, String.join("\n",
                "<configuration>",
                "  <statusListener class=\"ch.qos.logback.core.status.NopStatusListener\"/>",
                "  <appender name=\"OUT\" class=\"ch.qos.logback.core.ConsoleAppender\">",
                "    <encoder><pattern>%date{ISO8601} %-5level [%thread] %logger{20} - %msg%n</pattern></encoder>",
                "  </appender>",
                "  <root level=\"WARN\"><appender-ref ref=\"OUT\"/></root>",
                "  <logger name=\"org.apache.cassandra.service.CassandraDaemon\" level=\"INFO\"/>",
                "  <logger name=\"org.apache.cassandra.transport.Server\" level=\"INFO\"/>",
                "</configuration>", ""));
        return file;
    }

    // ---------------------------------------------------------------- classpath and JVM

    /** Cassandra's jars (resolved at build time into the cassandra-runtime jar) plus that jar. */
    static String classpath() throws IOException {
        String cp;
        try (InputStream in = CassandraServerMain.class.getResourceAsStream("/drover/cassandra-classpath.txt")) {
            if (in == null) {
                throw new IOException("drover/cassandra-classpath.txt missing: build the cassandra-runtime module");
            }
            cp = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        }
        for (String jar : cp.split(java.io.File.pathSeparator)) {
            if (!Files.exists(Path.of(jar))) {
                throw new IOException("Cassandra jar missing: " + jar + " (rebuild with 'mvn -pl cassandra-runtime install')");
            }
        }
        try {
            Path own = Path.of(CassandraServerMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return own + java.io.File.pathSeparator + cp;
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
    }

    static Path javaExecutable() throws IOException {
        String override = System.getenv("DROVER_CASSANDRA_JAVA_HOME");
        if (override != null && !override.isBlank()) {
            return Path.of(override, "bin", "java");
        }
        int feature = Runtime.version().feature();
        if (feature == 11 || feature == 17) {
            return Path.of(System.getProperty("java.home"), "bin", "java");
        }
        Path jvms = Path.of("/usr/lib/jvm");
        if (Files.isDirectory(jvms)) {
            try (Stream<Path> dirs = Files.list(jvms)) {
                for (Path dir : dirs.sorted().toList()) {
                    Path release = dir.resolve("release");
                    Path java = dir.resolve("bin").resolve("java");
                    if (Files.isRegularFile(release) && Files.isExecutable(java)) {
                        String r = Files.readString(release);
                        if (r.contains("JAVA_VERSION=\"17") || r.contains("JAVA_VERSION=\"11")) {
                            return java;
                        }
                    }
                }
            }
        }
        throw new IOException("Cassandra 5.0 needs Java 11 or 17 and this JVM is " + feature
                + "; set DROVER_CASSANDRA_JAVA_HOME to a JDK 17");
    }

    private static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    // ---------------------------------------------------------------- command line

    /** {@code start | stop | status [--data DIR] [--port N] [--heap-mb N]} */
    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: CassandraLauncher start|stop|status [--data DIR] [--port N] [--heap-mb N]");
            System.exit(2);
        }
        Path data = Path.of(System.getProperty("user.home"), ".drover", "cassandra");
        int port = 9042;
        int heap = 512;
        for (int i = 1; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--data" -> data = Path.of(args[i + 1]);
                case "--port" -> port = Integer.parseInt(args[i + 1]);
                case "--heap-mb" -> heap = Integer.parseInt(args[i + 1]);
                default -> {
                    System.err.println("unknown option " + args[i]);
                    System.exit(2);
                }
            }
        }
        CassandraLauncher launcher = new CassandraLauncher(Settings.of(data.toAbsolutePath(), port).withHeapMb(heap));
        switch (args[0]) {
            case "start" -> System.out.println(launcher.start() == StartResult.STARTED
                    ? "Cassandra started (pid " + launcher.runningProcess().map(ProcessHandle::pid).orElse(-1L)
                            + "), CQL on 127.0.0.1:" + port
                    : "Cassandra already answers on 127.0.0.1:" + port);
            case "stop" -> System.out.println(launcher.stop() ? "Cassandra stopped" : "no Cassandra started from " + data);
            case "status" -> {
                boolean up = launcher.answers();
                System.out.println((up ? "up" : "down") + launcher.runningProcess()
                        .map(h -> " (pid " + h.pid() + ")").orElse("") + ", CQL 127.0.0.1:" + port);
                System.exit(up ? 0 : 1);
            }
            default -> {
                System.err.println("unknown command " + args[0]);
                System.exit(2);
            }
        }
    }
}
