package io.drover.telemetry.rules;

import com.typesafe.config.Config;
import java.time.Duration;

/** Settings of {@code drover.telemetry.rules}, read once (reference.conf says what each is for). */
public record RulesEngineSettings(
        int observeParallelism, int observeAttempts, Duration observeBackoff,
        int actionAttempts, Duration actionBackoff, Duration commandTtl,
        Webhook webhook) {

    public record Webhook(int queueSize, int concurrency, int attempts, Duration minBackoff, Duration maxBackoff,
            Duration timeout, int maxTenants) {}

    public static RulesEngineSettings fromConfig(Config root) {
        Config c = root.getConfig("drover.telemetry.rules");
        Config w = c.getConfig("webhook");
        return new RulesEngineSettings(c.getInt("observe-parallelism"), c.getInt("observe-attempts"),
                c.getDuration("observe-backoff"), c.getInt("action-attempts"), c.getDuration("action-backoff"),
                c.getDuration("command-ttl"),
                new Webhook(w.getInt("queue-size"), w.getInt("concurrency"), w.getInt("attempts"),
                        w.getDuration("min-backoff"), w.getDuration("max-backoff"), w.getDuration("timeout"),
                        w.getInt("max-tenants")));
    }
}
