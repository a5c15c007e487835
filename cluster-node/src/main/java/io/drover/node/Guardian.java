package io.drover.node;

import io.drover.http.HttpApi;
import io.drover.http.RulesApi;
import io.drover.persistence.readside.AlarmListProjection;
import io.drover.rules.RuleCompiler;
import io.drover.shard.RulesSharding;
import io.drover.mqtt.MqttGateway;
import io.drover.telemetry.TelemetryStreams;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.drover.persistence.DroverPersistence;
import io.drover.persistence.readside.DeviceListProjection;
import io.drover.shard.DeviceClient;
import io.drover.shard.DeviceSharding;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * The root actor: it only calls each module's {@code init} in order — persistence (schema, on the
 * blocking dispatcher), sharding (devices, rules), the read-side projections, the telemetry ingest and the rules
 * engine on its output, then the edges (HTTP, MQTT broker on the blocking dispatcher) —
 * and reports the outcome to {@code started}. A failed start stops the system.
 */
public final class Guardian {

    /** What a started node offers its caller. */
    public record Started(DroverPersistence persistence, DeviceClient devices, InetSocketAddress http, MqttGateway mqtt) {}

    private sealed interface Msg {}

    private record PersistenceReady(DroverPersistence persistence) implements Msg {}

    private record EdgesUp(DroverPersistence persistence, DeviceClient devices, ServerBinding binding, MqttGateway mqtt)
            implements Msg {}

    private record Failed(Throwable cause) implements Msg {}

    private Guardian() {}

    public static Behavior<Void> create(CompletableFuture<Started> started) {
        return Behaviors.<Msg>setup(ctx -> {
            var system = ctx.getSystem();
            var blocking = system.dispatchers().lookup(DispatcherSelector.fromConfig("drover-blocking-dispatcher"));
            ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> DroverPersistence.init(system), blocking),
                    (p, e) -> e == null ? new PersistenceReady(p) : new Failed(e));
            return Behaviors.receive(Msg.class)
                    .onMessage(PersistenceReady.class, m -> {
                        NodeReadiness.get(system).persistence(m.persistence());
                        try {
                            DeviceClient devices = DeviceSharding.init(system);
                            RulesSharding rules = RulesSharding.init(system);
                            DeviceListProjection.init(system, m.persistence().devices());
                            AlarmListProjection.init(system, m.persistence().alarms());
                            PrometheusRegistry registry = new PrometheusRegistry(); // one per node
                            NodeMetrics.register(system, registry);
                            TelemetryStreams.Started telemetry = TelemetryStreams.init(system, m.persistence().telemetry(),
                                    m.persistence().retention(), registry);
                            TelemetryStreams.Rules engine = TelemetryStreams.initRules(system, telemetry,
                                    m.persistence().telemetry(), rules, devices, m.persistence().ruleErrors(), registry);
                            RulesApi rulesApi = new RulesApi(rules.rules(), rules.alarms(),
                                    new RuleCompiler(rules.settings()), m.persistence().ruleErrors(), engine.backtester(),
                                    m.persistence().alarms(), rules.alarmChanges());
                            CompletableFuture<MqttGateway> mqtt = CompletableFuture.supplyAsync(() -> {
                                try {
                                    MqttGateway g = MqttGateway.init(system, devices, telemetry.hub(), registry);
                                    if (g.settings().embeddedRuns()) {
                                        String host = g.settings().bindAddress().equals("0.0.0.0") ? "127.0.0.1"
                                                : g.settings().bindAddress();
                                        NodeReadiness.get(system).mqttListener(new InetSocketAddress(host, g.settings().listenPort()));
                                    }
                                    return g;
                                } catch (Exception e) {
                                    throw new java.util.concurrent.CompletionException(e);
                                }
                            }, blocking);
                            ctx.pipeToSelf(HttpApi.init(system, devices, m.persistence(), telemetry, rulesApi, registry,
                                            NodeReadiness.get(system))
                                            .thenCombine(mqtt, (b, g) -> new EdgesUp(m.persistence(), devices, b, g)),
                                    (up, e) -> e == null ? up : new Failed(e));
                        } catch (RuntimeException e) {
                            ctx.getSelf().tell(new Failed(e));
                        }
                        return Behaviors.same();
                    })
                    .onMessage(EdgesUp.class, m -> {
                        started.complete(new Started(m.persistence(), m.devices(), m.binding().localAddress(), m.mqtt()));
                        return Behaviors.same();
                    })
                    .onMessage(Failed.class, m -> {
                        ctx.getLog().error("Drover failed to start", m.cause());
                        started.completeExceptionally(m.cause());
                        return Behaviors.stopped();
                    })
                    .build();
        }).unsafeCast();
    }
}
