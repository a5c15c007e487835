package io.drover.telemetry.rules;

import io.drover.shard.BoundedCache;
import io.drover.shard.Stages;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Webhook deliveries, one bounded queue and stream per tenant (so one tenant's slow endpoint holds only its own
 * deliveries): HMAC-SHA256 signed bodies, retries with exponential backoff, and what still fails handed to
 * {@code onFailure} (a rule error with the body as dead letter). A full queue refuses at once, counted.
 *
 * <p>Signature: {@code X-Drover-Signature: sha256=<hex of HMAC-SHA256(secret, timestamp + "." + body)>} with
 * {@code X-Drover-Timestamp} (epoch ms), so a receiver can reject replays.
 */
public final class Webhooks {

    /** One delivery. {@code failed} is called once if it cannot be delivered (with the last failure). */
    public record Delivery(String tenantId, String url, String secret, String deliveryId, String body,
            Consumer<String> failed) {}

    private final ActorSystem<?> system;
    private final RulesEngineSettings.Webhook settings;
    private final HttpClient client;
    private final BoundedCache<String, BoundedSourceQueue<Delivery>> queues;
    private final Counter outcomes;

    public Webhooks(ActorSystem<?> system, RulesEngineSettings.Webhook settings, PrometheusRegistry registry) {
        this.system = system;
        this.settings = settings;
        this.client = HttpClient.newBuilder().connectTimeout(settings.timeout()).build();
        this.queues = new BoundedCache<>(settings.maxTenants(), Duration.ofDays(36500), BoundedSourceQueue::complete);
        this.outcomes = Counter.builder().name("drover_rules_webhooks_total")
                .help("Webhook deliveries by outcome (delivered, failed after retries, refused: queue full)")
                .labelNames("outcome").register(registry);
    }

    /** False when the tenant's queue is full (the caller records the error). */
    public boolean offer(Delivery d) {
        BoundedSourceQueue<Delivery> q = queues.computeIfAbsent(d.tenantId(), t -> Source.<Delivery>queue(settings.queueSize())
                .mapAsyncUnordered(settings.concurrency(), this::deliver)
                .named("webhooks-" + t)
                .to(Sink.ignore())
                .run(system));
        QueueOfferResult r = q.offer(d);
        if (r == QueueOfferResult.enqueued()) {
            return true;
        }
        outcomes.labelValues("refused").inc();
        return false;
    }

    private CompletionStage<Void> deliver(Delivery d) {
        long ts = System.currentTimeMillis();
        HttpRequest request = HttpRequest.newBuilder(URI.create(d.url()))
                .timeout(settings.timeout())
                .header("Content-Type", "application/json")
                .header("X-Drover-Timestamp", Long.toString(ts))
                .header("X-Drover-Delivery", d.deliveryId())
                .header("X-Drover-Signature", "sha256=" + sign(d.secret(), ts + "." + d.body()))
                .POST(HttpRequest.BodyPublishers.ofString(d.body(), StandardCharsets.UTF_8))
                .build();
        CompletionStage<Void> attempts = Stages.direct(Patterns.retry(() -> client
                        .sendAsync(request, HttpResponse.BodyHandlers.discarding())
                        .thenCompose(resp -> resp.statusCode() / 100 == 2 ? CompletableFuture.<Void>completedFuture(null)
                                : CompletableFuture.failedFuture(new IllegalStateException("HTTP " + resp.statusCode()))),
                Math.max(0, settings.attempts() - 1), settings.minBackoff(), settings.maxBackoff(), 0.2, system));
        return attempts.handle((ok, err) -> {
            if (err == null) {
                outcomes.labelValues("delivered").inc();
            } else {
                outcomes.labelValues("failed").inc();
                Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                        ? err.getCause() : err;
                d.failed().accept(settings.attempts() + " attempts, last: " + cause);
            }
            return null;
        });
    }

    /** Lower-case hex HMAC-SHA256 of {@code text} under {@code secret}. */
    public static String sign(String secret, String text) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
