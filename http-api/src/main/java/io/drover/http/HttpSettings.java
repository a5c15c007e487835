package io.drover.http;

import com.typesafe.config.Config;
import java.time.Duration;

/** Settings of {@code drover.http}, read once. */
public record HttpSettings(
        String interfaceName,
        int port,
        long maxBodyBytes,
        Duration bodyReadTimeout,
        int maxPageSize,
        int defaultPageSize,
        double rateLimitPerSecond,
        int rateLimitBurst,
        Duration authCacheTtl,
        int authCacheSize,
        Duration readinessTimeout,
        Duration shutdownDeadline,
        Telemetry telemetry,
        Live live,
        String metricsToken,
        Tls tls,
        FleetRoutes.Settings fleet) {

    /** {@code drover.http.tls}: HTTPS with a PKCS12 keystore (the plain port then serves HTTPS only). */
    public record Tls(boolean enabled, String keystore, String keystorePassword) {}

    /** {@code drover.http.telemetry}: query limits. */
    public record Telemetry(int defaultLimit, int maxPoints, int maxKeys, Duration maxRawRange, int maxRollupRows,
            int maxLatestDevices) {}

    /** {@code drover.http.live}: the WebSocket. */
    public record Live(int bufferSize, int maxSubscriptions, int maxMessageBytes) {}

    public static HttpSettings fromConfig(Config root) {
        Config c = root.getConfig("drover.http");
        return new HttpSettings(
                c.getString("interface"),
                c.getInt("port"),
                c.getMemorySize("max-body-size").toBytes(),
                c.getDuration("body-read-timeout"),
                c.getInt("max-page-size"),
                c.getInt("default-page-size"),
                c.getDouble("rate-limit.per-second"),
                c.getInt("rate-limit.burst"),
                c.getDuration("auth-cache.ttl"),
                c.getInt("auth-cache.size"),
                c.getDuration("readiness-timeout"),
                c.getDuration("shutdown-deadline"),
                new Telemetry(c.getInt("telemetry.default-limit"), c.getInt("telemetry.max-points"),
                        c.getInt("telemetry.max-keys"), c.getDuration("telemetry.max-raw-range"),
                        c.getInt("telemetry.max-rollup-rows"), c.getInt("telemetry.max-latest-devices")),
                new Live(c.getInt("live.buffer-size"), c.getInt("live.max-subscriptions"),
                        (int) c.getMemorySize("live.max-message-size").toBytes()),
                c.getString("metrics-token"),
                new Tls(c.getBoolean("tls.enabled"), c.getString("tls.keystore"), c.getString("tls.keystore-password")),
                new FleetRoutes.Settings(c.getInt("fleet.summary-max-devices"), c.getInt("fleet.summary-max-alarms"),
                        c.getDuration("fleet.summary-cache-ttl"), c.getInt("fleet.summary-cache-tenants"),
                        c.getInt("fleet.positions-max-page"), c.getInt("fleet.positions-parallelism")));
    }
}
