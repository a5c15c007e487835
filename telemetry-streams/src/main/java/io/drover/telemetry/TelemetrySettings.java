package io.drover.telemetry;

import com.typesafe.config.Config;
import java.time.Duration;

/** Settings of {@code drover.telemetry}, read once. */
public record TelemetrySettings(
        int maxPayloadBytes, Duration maxClockSkew, int queueSize, int batchSize, Duration batchWindow,
        int writeParallelism, int writeAttempts, Duration writeBackoff, Rollups rollups, int outputBuffer,
        Limits limits) {

    /** With the default output buffer (tests). */
    public TelemetrySettings(int maxPayloadBytes, Duration maxClockSkew, int queueSize, int batchSize,
            Duration batchWindow, int writeParallelism, int writeAttempts, Duration writeBackoff, Rollups rollups) {
        this(maxPayloadBytes, maxClockSkew, queueSize, batchSize, batchWindow, writeParallelism, writeAttempts,
                writeBackoff, rollups, 256, Limits.DEFAULTS);
    }

    /**
     * {@code drover.telemetry.limits}: distinct keys a device may have, devices whose keys a node tracks, how often
     * waiting latest-value checkpoints are written.
     */
    public record Limits(int maxKeysPerDevice, int devicesTracked, Duration latestFlushInterval) {
        public static final Limits DEFAULTS = new Limits(1000, 100_000, Duration.ofMinutes(1));
    }

    /** {@code drover.telemetry.rollups}; {@code markMargin} is {@code drover.persistence.rollup-mark-margin}. */
    public record Rollups(Duration grace, Duration markMargin, Duration tick, int parallelism, int maxTrackedWindows,
            Duration sweepInterval, Duration sweepAfter, int sweepBatch) {}

    public static TelemetrySettings fromConfig(Config root) {
        Config c = root.getConfig("drover.telemetry");
        Config r = c.getConfig("rollups");
        return new TelemetrySettings(
                (int) c.getMemorySize("max-payload-size").toBytes(),
                c.getDuration("max-clock-skew"),
                c.getInt("queue-size"),
                c.getInt("batch-size"),
                c.getDuration("batch-window"),
                c.getInt("write-parallelism"),
                c.getInt("write-attempts"),
                c.getDuration("write-backoff"),
                new Rollups(r.getDuration("grace"), root.getDuration("drover.persistence.rollup-mark-margin"),
                        r.getDuration("tick"), r.getInt("parallelism"), r.getInt("max-tracked-windows"),
                        r.getDuration("sweep-interval"), r.getDuration("sweep-after"), r.getInt("sweep-batch")),
                c.getInt("output-buffer"),
                new Limits(c.getInt("limits.max-keys-per-device"), c.getInt("limits.devices-tracked"),
                        c.getDuration("limits.latest-flush-interval")));
    }
}
