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
        External external,
        int maxPayloadBytes,
        Duration authTimeout,
        Duration ingestTimeout) {

    /** The port the embedded broker surely listens on: the TLS one in TLS-only mode, else the plain one. */
    public int listenPort() {
        return tls.enabled() && tls.only() ? tls.port() : port;
    }

    /** Whether this node runs the embedded broker (not when an external broker is used). */
    public boolean embeddedRuns() {
        return embeddedEnabled && !external.enabled();
    }

    /**
     * The TLS listener; {@code truststore} empty means no client certificates are asked for; {@code only}: the
     * plain listener is off (TLS-only mode).
     */
    public record Tls(boolean enabled, int port, String keystore, String keystorePassword, String keyPassword,
            String truststore, String truststorePassword, boolean only) {}

    /** An external broker; {@code clientId} empty means one derived from the node's cluster address. */
    public record External(boolean enabled, String url, String username, String password, String clientId,
            String sharedGroup, int bufferSize, int parallelism) {}

    public static MqttSettings fromConfig(Config root) {
        Config c = root.getConfig("drover.mqtt");
        Config t = c.getConfig("embedded.tls");
        Config x = c.getConfig("external");
        return new MqttSettings(
                c.getBoolean("embedded.enabled"),
                c.getString("embedded.bind-address"),
                c.getInt("embedded.port"),
                Path.of(c.getString("embedded.data-dir")),
                new Tls(t.getBoolean("enabled"), t.getInt("port"), t.getString("keystore"), t.getString("keystore-password"),
                        t.getString("key-password"), t.getString("truststore"), t.getString("truststore-password"),
                        t.getBoolean("only")),
                new External(x.getBoolean("enabled"), x.getString("url"), x.getString("username"), x.getString("password"),
                        x.getString("client-id"), x.getString("shared-group"), x.getInt("buffer-size"), x.getInt("parallelism")),
                (int) root.getMemorySize("drover.telemetry.max-payload-size").toBytes(),
                c.getDuration("auth-timeout"),
                c.getDuration("ingest-timeout"));
    }
}
