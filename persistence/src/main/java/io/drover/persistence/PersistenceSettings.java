package io.drover.persistence;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;

/** Settings of {@code drover.persistence}, read once. */
public record PersistenceSettings(
        String keyspace,
        String replication,
        boolean applySchemaAtStart,
        int deviceDirectoryBuckets,
        String contactPoint,
        Duration schemaLockTimeout,
        Path devCassandraDataDir,
        int devCassandraHeapMb) {

    public static PersistenceSettings fromConfig(Config root) {
        Config c = root.getConfig("drover.persistence");
        return new PersistenceSettings(
                c.getString("keyspace"),
                c.getString("replication"),
                c.getBoolean("apply-schema-at-start"),
                c.getInt("device-directory-buckets"),
                c.getString("contact-point"),
                c.getDuration("schema-lock-timeout"),
                Path.of(c.getString("dev-cassandra.data-dir")),
                c.getInt("dev-cassandra.heap-mb"));
    }

    public String host() {
        return contactPoint.substring(0, contactPoint.lastIndexOf(':'));
    }

    public int port() {
        return Integer.parseInt(contactPoint.substring(contactPoint.lastIndexOf(':') + 1));
    }
}
