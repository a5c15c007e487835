package io.drover.telemetry;

import io.drover.persistence.TelemetryStore;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The telemetry module's entry point: one ingest per node, shared by the MQTT and HTTP edges, drained
 * in coordinated shutdown after the edges stopped taking messages (so nothing accepted is dropped).
 */
public final class TelemetryStreams {

    private TelemetryStreams() {}

    public static TelemetryIngest init(ActorSystem<?> system, TelemetryStore store, PrometheusRegistry registry) {
        TelemetryIngest ingest = new TelemetryIngest(system, store, TelemetrySettings.fromConfig(system.settings().config()),
                registry);
        CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceStop(), "telemetry-ingest-drain",
                ingest::drain);
        return ingest;
    }
}
