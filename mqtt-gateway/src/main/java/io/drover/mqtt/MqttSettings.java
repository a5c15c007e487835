package io.drover.mqtt;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;

/** Settings of {@code drover.mqtt}, read once. */
public record MqttSettings(
        boolean embeddedEnabled,
        String bindAddress,
        int port,
        Path dataDir,
        Tls tls,
        int maxPayloadBytes,
        Duration authTimeout,
        Duration ingestTimeout) {

    /** The TLS listener; {@code truststore} empty means no client certificates are asked for. */
    public record Tls(boolean enabled, int port, String keystore, String keystorePassword, String keyPassword,
            String truststore, String truststorePassword) {}

    public static MqttSettings fromConfig(Config root) {
        Config c = root.getConfig("drover.mqtt");
        Config t = c.getConfig("embedded.tls");
        return new MqttSettings(
                c.getBoolean("embedded.enabled"),
                c.getString("embedded.bind-address"),
                c.getInt("embedded.port"),
                Path.of(c.getString("embedded.data-dir")),
                new Tls(t.getBoolean("enabled"), t.getInt("port"), t.getString("keystore"), t.getString("keystore-password"),
                        t.getString("key-password"), t.getString("truststore"), t.getString("truststore-password")),
                (int) root.getMemorySize("drover.telemetry.max-payload-size").toBytes(),
                c.getDuration("auth-timeout"),
                c.getDuration("ingest-timeout"));
    }
}
