package io.drover.persistence;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** Raw telemetry: idempotent writes (completing only when durable) and simple reads. */
public interface TelemetryStore {

    /** Completes when every sample is written at the configured consistency. */
    CompletionStage<Void> write(List<TelemetrySample> samples);

    /** Samples of one device and key in [from, to), newest first, at most {@code limit}. */
    CompletionStage<List<TelemetrySample>> read(String tenantId, String deviceId, String key, Instant from, Instant to,
            int limit);
}
