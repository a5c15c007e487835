package io.drover.persistence.testing;

import com.datastax.oss.driver.api.core.CqlSession;
import io.drover.persistence.Retention;
import io.drover.persistence.RetentionPolicy;
import io.drover.persistence.cassandra.CassandraAccessStore;
import io.drover.persistence.cassandra.CassandraTelemetryStore;
import java.time.Clock;
import java.time.Duration;

/** Stores on a test session, with the default settings of reference.conf. */
public final class TestStores {

    private static CqlSession shared;

    private TestStores() {}

    /** One session per test JVM on the test keyspace, schema applied; closed when the JVM exits. */
    public static synchronized CqlSession session() throws Exception {
        if (shared == null) {
            CassandraExtension.ensureRunning();
            CqlSession s = CqlSession.builder()
                    .addContactPoint(new java.net.InetSocketAddress("127.0.0.1", CassandraExtension.port()))
                    .withLocalDatacenter("datacenter1").build();
            io.drover.persistence.PersistenceSettings settings = new io.drover.persistence.PersistenceSettings(
                    CassandraExtension.TEST_KEYSPACE, "{'class': 'SimpleStrategy', 'replication_factor': 1}", true, 4,
                    "127.0.0.1:" + CassandraExtension.port(), Duration.ofSeconds(60), java.nio.file.Path.of("unused"), 256);
            new io.drover.persistence.SchemaRunner(s, settings).migrate();
            Runtime.getRuntime().addShutdownHook(new Thread(s::close));
            shared = s;
        }
        return shared;
    }

    public static RetentionPolicy retention(CqlSession session, String keyspace) {
        return new RetentionPolicy(new CassandraAccessStore(session, keyspace), new Retention(30, 90, 730),
                Duration.ofSeconds(1), 1000);
    }

    public static CassandraTelemetryStore telemetry(CqlSession session, String keyspace) {
        return telemetry(session, keyspace, Duration.ofSeconds(15));
    }

    /** With a short pending-mark margin, so rollups settle within a test's patience. */
    public static CassandraTelemetryStore telemetry(CqlSession session, String keyspace, Duration markMargin) {
        return new CassandraTelemetryStore(session, keyspace, retention(session, keyspace), markMargin, Clock.systemUTC());
    }

    /** With the latest-value scan's row budget and the legacy reads (telemetry_raw) set; null = look. */
    public static CassandraTelemetryStore telemetry(CqlSession session, String keyspace, int latestScanRows,
            Boolean legacyReads) {
        return new CassandraTelemetryStore(session, keyspace, retention(session, keyspace), Duration.ofSeconds(15),
                Duration.ofHours(1), 1_000_000, latestScanRows, legacyReads, Clock.systemUTC());
    }
}
