package io.drover.telemetry.rules;

import io.drover.device.DeviceKey;
import io.drover.persistence.TelemetrySample;
import io.drover.rules.CompiledRule;
import io.drover.rules.DeviceRules;
import io.drover.rules.RuleCatalog;
import io.drover.shard.RulesSharding;
import io.drover.shard.Retries;
import io.drover.telemetry.TelemetryHub;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rules engine's place in the telemetry graph: it consumes the hub's stored output (so a rule sees only what is
 * durable), skips messages of tenants without a rule that may watch the device (a cached lookup), and hands the rest
 * to the device's rule owner ({@link DeviceRules}, sharded: one owner per device cluster-wide). Asks are sent in the
 * output's order, so each owner gets its device's messages in order; a message the owner does not take after the
 * configured attempts is counted ({@code drover_rules_messages_total{outcome="failed"}}) and logged, never dropped
 * silently. The stage backpressures the hub while owners are slow.
 */
public final class RulesStage {

    private static final Logger log = LoggerFactory.getLogger(RulesStage.class);

    private RulesStage() {}

    public static UniqueKillSwitch start(ActorSystem<?> system, TelemetryHub hub, RuleCatalog catalog,
            RulesSharding.DeviceRulesClient owners, RulesEngineSettings settings, PrometheusRegistry registry) {
        Counter messages = Counter.builder().name("drover_rules_messages_total")
                .help("Stored messages seen by the rules engine, by outcome (observed, skipped: no rule watches the device, "
                        + "failed: the owner did not take it)")
                .labelNames("outcome").register(registry);
        return hub.stored()
                .mapAsync(settings.observeParallelism(), s -> process(catalog, owners, settings, messages, s))
                .named("rules-engine")
                .viaMat(KillSwitches.single(), Keep.right())
                .to(Sink.ignore())
                .run(system);
    }

    private static CompletionStage<Done> process(RuleCatalog catalog,
            RulesSharding.DeviceRulesClient owners, RulesEngineSettings settings, Counter messages,
            TelemetryHub.Stored s) {
        Optional<RuleCatalog.TenantRules> cached = catalog.cached(s.tenantId());
        CompletionStage<RuleCatalog.TenantRules> rules = cached.isPresent()
                ? CompletableFuture.completedFuture(cached.get()) : catalog.load(s.tenantId(), 0);
        return rules.thenCompose(r -> {
            if (!watched(r, s.deviceId())) {
                messages.labelValues("skipped").inc();
                return CompletableFuture.completedFuture(Done.getInstance());
            }
            DeviceKey key = new DeviceKey(s.tenantId(), s.deviceId());
            List<DeviceRules.Message> batch = messages(s.samples());
            if (batch.isEmpty()) {
                messages.labelValues("skipped").inc();
                return CompletableFuture.completedFuture(Done.getInstance());
            }
            return Retries.retry(() -> owners.observe(key, batch, s.derived(), r.setVersion()),
                    settings.observeAttempts(), settings.observeBackoff(), settings.observeBackoff().multipliedBy(8))
                    .thenApply(reply -> {
                        messages.labelValues("observed").inc();
                        return Done.getInstance();
                    });
        }).exceptionally(err -> {
            messages.labelValues("failed").inc();
            log.warn("Rules did not see a stored message of {}/{}: {}", s.tenantId(), s.deviceId(), err.toString());
            return Done.getInstance();
        });
    }

    private static boolean watched(RuleCatalog.TenantRules r, String deviceId) {
        for (CompiledRule rule : r.rules()) {
            if (rule.watchesById(deviceId)) {
                return true;
            }
        }
        return false;
    }

    /** Samples of one stored message, grouped by time (numbers as Double, text, booleans; JSON values skipped). */
    static List<DeviceRules.Message> messages(List<TelemetrySample> samples) {
        Map<Long, Map<String, Object>> byTs = new LinkedHashMap<>();
        for (TelemetrySample t : samples) {
            Object v = t.number() != null ? t.number() : t.text() != null ? t.text() : t.bool();
            if (v != null) {
                byTs.computeIfAbsent(t.ts().toEpochMilli(), k -> new HashMap<>()).put(t.key(), v);
            }
        }
        List<DeviceRules.Message> out = new ArrayList<>(byTs.size());
        byTs.forEach((ts, values) -> out.add(new DeviceRules.Message(ts, Map.copyOf(values))));
        return out;
    }
}
