package io.drover.telemetry;

import com.typesafe.config.Config;
import java.time.Duration;

/** Settings of {@code drover.telemetry}, read once. */
public record TelemetrySettings(
        int maxPayloadBytes, Duration maxClockSkew, int queueSize, int batchSize, Duration batchWindow,
        int writeParallelism) {

    public static TelemetrySettings fromConfig(Config root) {
        Config c = root.getConfig("drover.telemetry");
        return new TelemetrySettings(
                (int) c.getMemorySize("max-payload-size").toBytes(),
                c.getDuration("max-clock-skew"),
                c.getInt("queue-size"),
                c.getInt("batch-size"),
                c.getDuration("batch-window"),
                c.getInt("write-parallelism"));
    }
}
