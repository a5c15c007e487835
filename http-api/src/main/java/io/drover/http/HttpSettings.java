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
        Duration shutdownDeadline) {

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
                c.getDuration("shutdown-deadline"));
    }
}
