package io.drover.telemetry;

import io.drover.persistence.TelemetrySample;
import io.drover.persistence.TelemetryStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The telemetry path from the edges (MQTT, HTTP) to Cassandra: a bounded queue, batches of up to
 * {@code batch-size} messages or {@code batch-window}, written with bounded parallelism. Each
 * message's future completes only when its samples are written, which is when the device gets its
 * PUBACK (or HTTP answer). A full queue refuses at once (the device is not acknowledged and sends again); a failed
 * write fails its messages; the stream itself never fails.
 */
public final class TelemetryIngest {

    /** The queue is full: Drover is slower than its devices right now. */
    public static final class Overloaded extends RuntimeException {
        Overloaded() {
            super("telemetry queue full", null, false, false);
        }
    }

    private record Pending(List<TelemetrySample> samples, CompletableFuture<Void> done) {}

    private final BoundedSourceQueue<Pending> queue;
    private final CompletionStage<Done> finished;
    private final Gauge queueDepth;
    private final Counter refused;
    private final TelemetryCodec codec;

    /** Starts the writer stream; stop it with {@link #drain} (the node does so in coordinated shutdown). */
    public TelemetryIngest(ActorSystem<?> system, TelemetryStore store, TelemetrySettings settings, PrometheusRegistry registry) {
        this.codec = new TelemetryCodec(settings.maxPayloadBytes(), settings.maxClockSkew());
        this.queueDepth = Gauge.builder().name("drover_telemetry_queue_depth")
                .help("Telemetry messages waiting for the Cassandra writer").register(registry);
        this.refused = Counter.builder().name("drover_telemetry_refused_total")
                .help("Telemetry messages refused because the writer queue was full").register(registry);
        Pair<BoundedSourceQueue<Pending>, CompletionStage<Done>> run = Source.<Pending>queue(settings.queueSize())
                .groupedWithin(settings.batchSize(), settings.batchWindow())
                .mapAsyncUnordered(settings.writeParallelism(), batch -> write(store, batch))
                .toMat(Sink.ignore(), org.apache.pekko.stream.javadsl.Keep.both())
                .run(system);
        this.queue = run.first();
        this.finished = run.second();
    }

    private static CompletionStage<Done> write(TelemetryStore store, List<Pending> batch) {
        List<TelemetrySample> all = new ArrayList<>();
        batch.forEach(p -> all.addAll(p.samples()));
        CompletionStage<Void> written;
        try {
            written = store.write(all);
        } catch (RuntimeException e) {
            written = CompletableFuture.failedFuture(e);
        }
        return written.handle((ok, err) -> {
            for (Pending p : batch) {
                if (err == null) {
                    p.done().complete(null);
                } else {
                    p.done().completeExceptionally(err);
                }
            }
            return Done.getInstance();
        });
    }

    /** Completes when the samples are durable; fails with {@link Overloaded} when the queue is full. */
    public CompletionStage<Void> submit(List<TelemetrySample> samples) {
        Pending p = new Pending(samples, new CompletableFuture<>());
        QueueOfferResult r = queue.offer(p);
        queueDepth.set(queue.size());
        if (r == QueueOfferResult.enqueued()) {
            return p.done();
        }
        refused.inc();
        return CompletableFuture.failedFuture(r == QueueOfferResult.dropped() ? new Overloaded()
                : new IllegalStateException("telemetry ingest is stopped"));
    }

    /** The payload rules every edge shares (MQTT and HTTP). */
    public TelemetryCodec codec() {
        return codec;
    }

    /** Accepts nothing more; completes when everything accepted is written. */
    public CompletionStage<Done> drain() {
        queue.complete();
        return finished;
    }
}
