package io.drover.mqtt;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** MQTT metrics: connects by outcome, refusals by reason, messages by route and outcome, ingest latency. */
public final class MqttMetrics {

    private final Counter connects;
    private final Counter refused;
    private final Counter messages;
    private final io.prometheus.metrics.core.metrics.Gauge sessions;
    private final Histogram ingestLatency;

    public MqttMetrics(PrometheusRegistry registry) {
        sessions = io.prometheus.metrics.core.metrics.Gauge.builder().name("drover_mqtt_sessions")
                .help("Authenticated device sessions open on this node's embedded broker").register(registry);
        connects = Counter.builder().name("drover_mqtt_connects_total").help("MQTT connect attempts by outcome")
                .labelNames("outcome").register(registry);
        refused = Counter.builder().name("drover_mqtt_refused_total")
                .help("Publishes and subscribes refused by the device ACL, by action").labelNames("action")
                .register(registry);
        messages = Counter.builder().name("drover_mqtt_messages_total")
                .help("Device messages by route and outcome (ok, or the error code sent to the device)")
                .labelNames("route", "outcome").register(registry);
        ingestLatency = Histogram.builder().name("drover_mqtt_ingest_duration_seconds")
                .help("From a device's PUBLISH to its effect being durable (when the PUBACK goes out)")
                .labelNames("route").register(registry);
    }

    /** An authenticated device session started (+1) or ended (−1) on this node. */
    public void session(int delta) {
        sessions.inc(delta);
    }

    public void connect(String outcome) {
        connects.labelValues(outcome).inc();
    }

    public void refused(String action) {
        refused.labelValues(action).inc();
    }

    public void message(String route, String outcome) {
        messages.labelValues(route, outcome).inc();
    }

    public void ingested(String route, long nanos) {
        ingestLatency.labelValues(route).observe(nanos / 1e9);
    }
}
