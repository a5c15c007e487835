package io.drover.telemetry;

import io.drover.persistence.RuleErrorStore;
import io.drover.persistence.RetentionPolicy;
import io.drover.persistence.TelemetryStore;
import io.drover.shard.DeviceClient;
import io.drover.shard.RulesSharding;
import io.drover.telemetry.rules.Backtester;
import io.drover.telemetry.rules.RuleActions;
import io.drover.telemetry.rules.RulesEngineSettings;
import io.drover.telemetry.rules.RulesStage;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The telemetry module's entry point: one hub per node, shared by the MQTT and HTTP edges, drained
 * in coordinated shutdown after the edges stopped taking messages (so nothing accepted is dropped).
 */
public final class TelemetryStreams {

    /** What the edges use: the hub (ingest) and the live feed (WebSocket subscribers). */
    public record Started(TelemetryHub hub, LiveFeed live) {}

    private TelemetryStreams() {}

    /** The rules engine as started on this node: its effects (for facts) and the backtest over stored telemetry. */
    public record Rules(RuleActions effects, Backtester backtester) {}

    /**
     * Starts the rule owners' sharding with this node's effects and attaches the rules stage to the hub's output; call
     * after {@link #init} and before the edges take messages.
     */
    public static Rules initRules(ActorSystem<?> system, Started telemetry, TelemetryStore store, RulesSharding rules,
            DeviceClient devices, RuleErrorStore errors, PrometheusRegistry registry) {
        RulesEngineSettings settings = RulesEngineSettings.fromConfig(system.settings().config());
        RuleActions effects = new RuleActions(system, settings, rules.alarms(), devices, telemetry.hub(), errors, registry);
        RulesSharding.DeviceRulesClient owners = rules.startOwners(effects);
        RulesStage.start(system, telemetry.hub(), rules.catalog(), owners, settings, registry);
        Backtester backtester = new Backtester(store, rules.settings(), effects,
                system.settings().config().getInt("drover.telemetry.rules.max-backtest-samples"));
        return new Rules(effects, backtester);
    }

    public static Started init(ActorSystem<?> system, TelemetryStore durable, RetentionPolicy retention,
            PrometheusRegistry registry) {
        boolean discard = system.settings().config().getBoolean("drover.telemetry.bench-discard-writes");
        TelemetryStore store = discard ? new BenchDiscardingStore(durable) : durable;
        if (discard) {
            system.log().warn("BENCHMARK ONLY: drover.telemetry.bench-discard-writes is on — telemetry is acknowledged "
                    + "at once and NOT STORED. Never run a node like this for real devices.");
        }
        TelemetryHub hub = new TelemetryHub(system, store, TelemetrySettings.fromConfig(system.settings().config()),
                registry, Clock.systemUTC(), retention);
        LiveFeed live = new LiveFeed(system).follow(hub, system);
        CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceStop(), "telemetry-hub-drain",
                () -> hub.drain().thenCompose(d -> store.flushLatest(true).handle((n, e) -> Done.getInstance())));
        return new Started(hub, live);
    }
}
