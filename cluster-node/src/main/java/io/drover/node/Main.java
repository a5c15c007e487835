package io.drover.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.drover.http.ApiKeys;
import io.drover.persistence.ApiKey;
import io.drover.persistence.DroverPersistence;
import io.drover.persistence.PersistenceSettings;
import io.drover.persistence.cassandra.CassandraLauncher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code dev} (everything on this machine), {@code node} (production), {@code create-admin-key}
 * (the first platform admin key of a production deployment) and {@code cassandra start|stop|status}.
 */
public final class Main {

    private static final Logger log = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) throws Exception {
        // On ≤ 2 cores the common pool has parallelism 1, and then every CompletableFuture *Async callback
        // without an executor (which Pekko's Java API futures use for all callbacks) starts a new thread.
        // Set before anything touches ForkJoinPool (the JVM loads it only after main starts), for any launcher.
        if (System.getProperty("java.util.concurrent.ForkJoinPool.common.parallelism") == null
                && Runtime.getRuntime().availableProcessors() <= 2) {
            System.setProperty("java.util.concurrent.ForkJoinPool.common.parallelism", "2");
        }
        String mode = args.length > 0 ? args[0] : "help";
        switch (mode) {
            case "dev" -> orExit(Main::dev);
            case "node" -> orExit(Main::node);
            case "create-admin-key" -> createAdminKey();
            case "cassandra" -> CassandraLauncher.main(Arrays.copyOfRange(args, 1, args.length));
            default -> {
                System.err.println("usage: drover dev | node | create-admin-key | cassandra start|stop|status");
                System.exit(2);
            }
        }
    }

    private interface Mode {
        void run() throws Exception;
    }

    /** A node whose start-up work failed exits (non-zero) instead of running on, never ready. */
    private static void orExit(Mode mode) {
        try {
            mode.run();
        } catch (Throwable t) {
            log.error("Drover did not start", t);
            System.err.println("drover: start failed: " + t);
            Runtime.getRuntime().halt(1);
        }
    }

    /** Config of a mode: mode-{mode}.conf over application.conf over every reference.conf. */
    public static Config config(String mode, Config overrides) {
        Config c = overrides
                .withFallback(ConfigFactory.parseResources("mode-" + mode + ".conf"))
                .withFallback(ConfigFactory.parseResourcesAnySyntax("application"));
        String seeds = System.getenv("DROVER_SEED_NODES");
        if ("node".equals(mode) && seeds != null && !seeds.isBlank()) {
            c = ConfigFactory.empty().withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(csv(seeds)))
                    .withFallback(c);
        }
        String endpoints = System.getenv("DROVER_BOOTSTRAP_ENDPOINTS");
        if (endpoints != null && !endpoints.isBlank()) {
            // config discovery for Cluster Bootstrap: management endpoints host:port of the nodes to form with
            List<Map<String, Object>> list = csv(endpoints).stream().map(e -> {
                int colon = e.lastIndexOf(':');
                return Map.<String, Object>of("host", e.substring(0, colon), "port", Integer.parseInt(e.substring(colon + 1)));
            }).toList();
            c = ConfigFactory.empty().withValue("pekko.discovery.config.services.drover.endpoints",
                    ConfigValueFactory.fromIterable(list)).withFallback(c);
        }
        return ConfigFactory.load(c);
    }

    private static List<String> csv(String value) {
        return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    private static void dev() throws Exception {
        long t0 = System.nanoTime();
        Config config = config("dev", ConfigFactory.empty());
        PersistenceSettings ps = PersistenceSettings.fromConfig(config);
        Path dataDir = Path.of(config.getString("drover.node.data-dir")).toAbsolutePath();
        PersistenceSettings devPs = System.getenv("DROVER_DEV_CASSANDRA_DIR") != null ? ps
                : new PersistenceSettings(ps.keyspace(), ps.replication(), ps.applySchemaAtStart(),
                        ps.deviceDirectoryBuckets(), ps.contactPoint(), ps.schemaLockTimeout(),
                        dataDir.resolve("cassandra"), ps.devCassandraHeapMb());
        CassandraLauncher.StartResult cassandra = DroverPersistence.startDevCassandra(devPs);
        long cassandraMs = (System.nanoTime() - t0) / 1_000_000;

        Started s = startUnready(config, Duration.ofMinutes(3));

        ApiKeys keys = new ApiKeys(s.started().persistence().access(), Clock.systemUTC());
        Optional<ApiKeys.Issued> admin = keys.bootstrapPlatformAdmin().toCompletableFuture().get(30, TimeUnit.SECONDS);
        Path keyFile = dataDir.resolve("admin-api-key");
        if (admin.isPresent()) {
            DevFleet.writeSecret(keyFile, admin.get().secret());
        }
        String http = s.httpUrl();
        DevFleet.ensureWithAdminKeyIn(http, dataDir);
        NodeReadiness.get(s.system()).started(); // only now: a client that waited for ready finds the files
        long totalMs = (System.nanoTime() - t0) / 1_000_000;
        StringBuilder b = new StringBuilder("\n");
        b.append("  Drover is running in dev mode (started in ").append(totalMs).append(" ms; Cassandra ")
                .append(cassandra == CassandraLauncher.StartResult.STARTED ? "started in " + cassandraMs + " ms" : "was already running")
                .append(")\n\n");
        Path tenantKeyFile = dataDir.resolve("dev-tenant-key");
        String tenantKey = Files.isReadable(tenantKeyFile) ? Files.readString(tenantKeyFile).trim() : null;
        b.append("  Console      ").append(http).append("/   sign in with the 'dev' tenant's key")
                .append(tenantKey != null ? ": " + tenantKey : " (in " + tenantKeyFile + ")").append("\n");
        b.append("  API docs     ").append(http).append("/api/docs\n");
        b.append("  REST API     ").append(http).append("/api/v1\n");
        b.append("  Health       ").append(http).append("/health/ready\n");
        b.append("  Metrics      ").append(http).append("/metrics\n");
        b.append("  Cassandra    ").append(devPs.contactPoint()).append(" (keyspace ").append(ps.keyspace())
                .append(", data ").append(devPs.devCassandraDataDir()).append(")\n");
        if (admin.isPresent()) {
            b.append("  Admin key    ").append(admin.get().secret()).append("   (shown once; also in ").append(keyFile).append(")\n");
        } else {
            b.append("  Admin key    created at first start; see ").append(keyFile).append("\n");
        }
        b.append("\n  Try:  curl -s -H \"Authorization: Bearer $(cat ").append(keyFile).append(")\" -H 'Content-Type: application/json' \\\n")
                .append("         -d '{\"id\":\"acme\",\"name\":\"Acme\"}' ").append(http).append("/api/v1/tenants\n");
        var mqtt = s.started().mqtt().settings();
        if (mqtt.external().enabled()) {
            b.append("\n  MQTT         external broker ").append(mqtt.external().url())
                    .append(" (topics devices/{tenant}:{device}/…)\n");
        } else if (mqtt.embeddedRuns()) {
            String id = DevFleet.TENANT + ":" + DevFleet.DEVICE;
            b.append("\n  MQTT         ").append(mqtt.bindAddress()).append(":").append(mqtt.port())
                    .append("  (client id = username = tenant:device, password = device token)\n");
            b.append("  Send telemetry as the dev device:\n");
            b.append("        mosquitto_pub -h ").append(mqtt.bindAddress()).append(" -p ").append(mqtt.port())
                    .append(" -q 1 -i ").append(id).append(" -u ").append(id).append(" -P \"$(cat ")
                    .append(dataDir.resolve("dev-device-token")).append(")\" \\\n")
                    .append("          -t devices/").append(DevFleet.DEVICE).append("/telemetry -m '{\"temperature\": 21.5}'\n");
            b.append("  Tenant 'dev' admin key in ").append(dataDir.resolve("dev-tenant-key")).append("\n");
        }
        b.append("  Stop with Ctrl-C; './drover cassandra stop' stops the dev Cassandra.\n");
        System.out.println(b);
        s.system().getWhenTerminated().toCompletableFuture().get();
    }

    private static void node() throws Exception {
        Config config = config("node", ConfigFactory.empty());
        Started s = startUnready(config, Duration.ofMinutes(5));
        String fleetDir = System.getenv("DROVER_DEV_FLEET_DIR");
        if (fleetDir != null && !fleetDir.isBlank()) {
            // local cluster (./drover cluster start): node 1 writes the dev tenant and device files as dev mode does
            DevFleet.ensureWithAdminKeyIn(s.httpUrl(), Path.of(fleetDir).toAbsolutePath());
        }
        NodeReadiness.get(s.system()).started();
        log.info("Drover node up; HTTP on {}", s.started().http());
        boolean noAdmin = s.started().persistence().access().keysOf(ApiKey.PLATFORM_TENANT)
                .toCompletableFuture().get(30, TimeUnit.SECONDS).isEmpty();
        if (noAdmin) {
            // production has no default credentials: say how to make the first one
            log.warn("No platform admin API key exists yet. Create one with './drover create-admin-key' "
                    + "(same environment as this node); it is printed once.");
        }
        s.system().getWhenTerminated().toCompletableFuture().get();
    }

    /** Creates a platform admin key against the configured Cassandra and prints it once. */
    private static void createAdminKey() throws Exception {
        Config config = ConfigFactory.parseString("pekko.actor.provider = local\npekko.coordinated-shutdown.exit-jvm = off")
                .withFallback(config("node", ConfigFactory.empty()));
        ActorSystem<Void> system = ActorSystem.create(org.apache.pekko.actor.typed.javadsl.Behaviors.empty(), "drover-admin", config);
        ApiKeys.Issued issued;
        try {
            DroverPersistence p = DroverPersistence.init(system);
            issued = new ApiKeys(p.access(), Clock.systemUTC())
                    .issue(ApiKey.PLATFORM_TENANT, ApiKey.Role.PLATFORM_ADMIN, "created by create-admin-key", Optional.empty())
                    .toCompletableFuture().get(30, TimeUnit.SECONDS);
        } finally {
            system.terminate();
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
        System.out.flush();
        System.err.println("Platform admin key " + issued.key().keyId() + " (shown once; store it now):");
        System.out.println(issued.secret());
    }

    public record Started(ActorSystem<Void> system, Guardian.Started started) {
        String httpUrl() {
            boolean tls = system.settings().config().getBoolean("drover.http.tls.enabled");
            return (tls ? "https://" : "http://") + started.http().getHostString() + ":" + started.http().getPort();
        }
    }

    /** Starts a node on {@code config} and reports it ready; fails when it is not serving within {@code timeout}. */
    public static Started start(Config config, Duration timeout) throws Exception {
        Started s = startUnready(config, timeout);
        NodeReadiness.get(s.system()).started();
        return s;
    }

    /** Starts a node whose caller has more start-up work to do before it calls {@code NodeReadiness.started()}. */
    private static Started startUnready(Config config, Duration timeout) throws Exception {
        CompletableFuture<Guardian.Started> started = new CompletableFuture<>();
        ActorSystem<Void> system = ActorSystem.create(Guardian.create(started), "drover", config);
        try {
            NodeManagement.start(system); // before the guardian's work: bootstrap forms the cluster meanwhile
            return new Started(system, started.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
        } catch (Exception e) {
            system.terminate();
            throw e;
        }
    }
}
