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
        int maxPayloadBytes,
        Duration authTimeout,
        Duration ingestTimeout) {

    public static MqttSettings fromConfig(Config root) {
        Config c = root.getConfig("drover.mqtt");
        return new MqttSettings(
                c.getBoolean("embedded.enabled"),
                c.getString("embedded.bind-address"),
                c.getInt("embedded.port"),
                Path.of(c.getString("embedded.data-dir")),
                (int) root.getMemorySize("drover.telemetry.max-payload-size").toBytes(),
                c.getDuration("auth-timeout"),
                c.getDuration("ingest-timeout"));
    }
}
