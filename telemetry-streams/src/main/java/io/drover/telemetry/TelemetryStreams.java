package io.drover.telemetry;

import io.drover.persistence.TelemetryStore;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.util.Optional;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The telemetry module's entry point: one hub per node, shared by the MQTT and HTTP edges, drained
 * in coordinated shutdown after the edges stopped taking messages (so nothing accepted is dropped).
 */
public final class TelemetryStreams {

    /** What the edges use: the hub (ingest) and the live feed (WebSocket subscribers). */
    public record Started(TelemetryHub hub, LiveFeed live) {}

    private TelemetryStreams() {}

    public static Started init(ActorSystem<?> system, TelemetryStore store, PrometheusRegistry registry) {
        LiveFeed live = new LiveFeed(system);
        TelemetryHub hub = new TelemetryHub(system, store, TelemetrySettings.fromConfig(system.settings().config()),
                Optional.of(live), registry, Clock.systemUTC());
        CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceStop(), "telemetry-hub-drain",
                hub::drain);
        return new Started(hub, live);
    }
}
