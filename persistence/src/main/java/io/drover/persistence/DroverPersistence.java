package io.drover.persistence;

import com.datastax.oss.driver.api.core.CqlSession;
import io.drover.persistence.cassandra.CassandraAccessStore;
import io.drover.persistence.cassandra.CassandraDeviceDirectory;
import io.drover.persistence.cassandra.CassandraLauncher;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.connectors.cassandra.CassandraSessionSettings;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The persistence module's entry point: one driver session, the schema applied (when configured),
 * and the stores built on it. {@link #init} blocks; it runs once at node start, before anything
 * serves traffic.
 */
public final class DroverPersistence {

    private static final Logger log = LoggerFactory.getLogger(DroverPersistence.class);

    private final PersistenceSettings settings;
    private final CqlSession session;
    private final AccessStore access;
    private final DeviceDirectory devices;
    private final ShadowHistory history;
    private final TelemetryStore telemetry;
    private final RetentionPolicy retention;
    private final AlarmDirectory alarms;
    private final RuleErrorStore ruleErrors;
    private final IdempotencyStore idempotency;

    private DroverPersistence(PersistenceSettings settings, CqlSession session, ActorSystem<?> system) {
        this.settings = settings;
        this.session = session;
        this.access = new CassandraAccessStore(session, settings.keyspace());
        this.devices = new CassandraDeviceDirectory(session, settings.keyspace(), settings.deviceDirectoryBuckets());
        this.history = ShadowHistory.onCassandra(system);
        var config = system.settings().config();
        this.retention = new RetentionPolicy(access, Retention.fromConfig(config),
                config.getDuration("drover.persistence.retention.cache-ttl"),
                config.getInt("drover.persistence.retention.max-cached-tenants"));
        this.alarms = new io.drover.persistence.cassandra.CassandraAlarmDirectory(session, settings.keyspace(),
                config.getDuration("drover.persistence.alarms.cleared-ttl"));
        this.ruleErrors = new io.drover.persistence.cassandra.CassandraRuleErrorStore(session, settings.keyspace());
        this.idempotency = new io.drover.persistence.cassandra.CassandraIdempotencyStore(session, settings.keyspace());
        this.telemetry = new io.drover.persistence.cassandra.CassandraTelemetryStore(session, settings.keyspace(), retention,
                config.getDuration("drover.persistence.rollup-mark-margin"),
                config.getDuration("drover.persistence.latest.refresh"), config.getInt("drover.persistence.latest.max-tracked"),
                config.getInt("drover.persistence.latest.scan-rows"), legacyReads(config), java.time.Clock.systemUTC());
    }

    /** drover.persistence.legacy-raw-reads: auto (null: while telemetry_raw has rows), on or off. */
    private static Boolean legacyReads(com.typesafe.config.Config config) {
        String v = config.getString("drover.persistence.legacy-raw-reads");
        switch (v) {
            case "auto":
                return null;
            case "on":
                return true;
            case "off":
                return false;
            default:
                throw new IllegalArgumentException("drover.persistence.legacy-raw-reads: auto, on or off, not " + v);
        }
    }

    public static DroverPersistence init(ActorSystem<?> system) {
        PersistenceSettings settings = PersistenceSettings.fromConfig(system.settings().config());
        CqlSession session;
        try {
            session = CassandraSessionRegistry.get(system)
                    .sessionFor(CassandraSessionSettings.create())
                    .underlying()
                    .toCompletableFuture()
                    .get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot connect to Cassandra at " + settings.contactPoint(), e);
        }
        if (settings.applySchemaAtStart()) {
            long t0 = System.nanoTime();
            new SchemaRunner(session, settings).migrate();
            log.info("Schema of keyspace {} is current ({} ms)", settings.keyspace(), (System.nanoTime() - t0) / 1_000_000);
        }
        return new DroverPersistence(settings, session, system);
    }

    /** Starts the dev Cassandra from {@code drover.persistence.dev-cassandra} unless one already answers. */
    public static CassandraLauncher.StartResult startDevCassandra(PersistenceSettings settings) throws Exception {
        CassandraLauncher launcher = new CassandraLauncher(
                CassandraLauncher.Settings.of(settings.devCassandraDataDir().toAbsolutePath(), settings.port())
                        .withHeapMb(settings.devCassandraHeapMb()));
        return launcher.start();
    }

    public PersistenceSettings settings() {
        return settings;
    }

    public CqlSession session() {
        return session;
    }

    public AccessStore access() {
        return access;
    }

    public DeviceDirectory devices() {
        return devices;
    }

    public ShadowHistory history() {
        return history;
    }

    public RetentionPolicy retention() {
        return retention;
    }

    public TelemetryStore telemetry() {
        return telemetry;
    }

    /** Alarms by tenant and by id (the alarm-list projection writes them). */
    public AlarmDirectory alarms() {
        return alarms;
    }

    public IdempotencyStore idempotency() {
        return idempotency;
    }

    public RuleErrorStore ruleErrors() {
        return ruleErrors;
    }

    /** Completes when Cassandra answers a trivial query within {@code timeout}. */
    public CompletionStage<Boolean> ready(Duration timeout) {
        return session.executeAsync(com.datastax.oss.driver.api.core.cql.SimpleStatement
                        .newInstance("SELECT release_version FROM system.local").setTimeout(timeout))
                .handle((rs, err) -> err == null && rs.one() != null);
    }
}
