package io.drover.http;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/** The node's Prometheus metrics: HTTP, twin commands, Cassandra calls, JVM. */
public final class ApiMetrics {

    private final PrometheusRegistry registry;
    private final Counter httpRequests;
    private final Histogram httpLatency;
    private final Counter twinCommands;
    private final Histogram cassandraLatency;
    private final Histogram twinLatency;
    private final Counter rejected;

    public PrometheusRegistry registry() {
        return registry;
    }

    public ApiMetrics(PrometheusRegistry registry, boolean withJvm) {
        this.registry = registry;
        httpRequests = Counter.builder().name("drover_http_requests_total")
                .help("HTTP requests by route, method and status").labelNames("route", "method", "status")
                .register(registry);
        httpLatency = Histogram.builder().name("drover_http_request_duration_seconds")
                .help("HTTP request latency by route and method").labelNames("route", "method")
                .register(registry);
        twinCommands = Counter.builder().name("drover_twin_commands_total")
                .help("Commands sent to device twins by command and outcome").labelNames("command", "outcome")
                .register(registry);
        twinLatency = Histogram.builder().name("drover_twin_command_duration_seconds")
                .help("Time from asking a device twin to its reply, by command (persisting commands include the journal write)")
                .labelNames("command").register(registry);
        cassandraLatency = Histogram.builder().name("drover_cassandra_request_duration_seconds")
                .help("Latency of Drover's own Cassandra calls by operation").labelNames("operation")
                .register(registry);
        rejected = Counter.builder().name("drover_http_rejected_total")
                .help("Requests rejected before they reached a twin or a store, by reason").labelNames("reason")
                .register(registry);
        if (withJvm) {
            JvmMetrics.builder().register(registry);
        }
    }

    public void http(String route, String method, int status, long nanos) {
        httpRequests.labelValues(route, method, Integer.toString(status)).inc();
        httpLatency.labelValues(route, method).observe(nanos / 1e9);
    }

    public void twin(String command, String outcome) {
        twinCommands.labelValues(command, outcome).inc();
    }

    public void twinLatency(String command, long nanos) {
        twinLatency.labelValues(command).observe(nanos / 1e9);
    }

    public void rejected(String reason) {
        rejected.labelValues(reason).inc();
    }

    /** Times a Cassandra call from start to completion, failures included. */
    public <T> CompletionStage<T> cassandra(String operation, Supplier<CompletionStage<T>> call) {
        long t0 = System.nanoTime();
        return call.get().whenComplete((r, e) -> cassandraLatency.labelValues(operation).observe((System.nanoTime() - t0) / 1e9));
    }

    public String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            new PrometheusTextFormatWriter(false).write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }
}
