package io.drover.node;

import io.drover.device.TwinFailure;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The node's own metrics: the cluster members it sees, by status (read at scrape time), and the journal failures
 * that stopped an entity on this node ({@link TwinFailure}, each followed by a restart after backoff).
 */
final class NodeMetrics {

    private NodeMetrics() {}

    static void register(ActorSystem<?> system, PrometheusRegistry registry) {
        GaugeWithCallback.builder()
                .name("drover_cluster_members").help("Cluster members this node sees, by status")
                .labelNames("status")
                .callback(cb -> {
                    Map<String, Integer> byStatus = new TreeMap<>();
                    for (Member member : Cluster.get(system).state().getMembers()) {
                        byStatus.merge(member.status().toString().toLowerCase(), 1, Integer::sum);
                    }
                    byStatus.putIfAbsent("up", 0);
                    byStatus.forEach((status, n) -> cb.call(n, status));
                })
                .register(registry);
        countTwinRestarts(system, registry);
    }

    static void countTwinRestarts(ActorSystem<?> system, PrometheusRegistry registry) {
        Counter restarts = Counter.builder().name("drover_twin_restarts_total")
                .help("Entities (device twins, rules owners, alarms) stopped by a journal failure on this node, by "
                        + "entity and cause; a failed recovery or write is restarted after a backoff (200 ms to 10 s)")
                .labelNames("entity", "cause").register(registry);
        for (String entity : TwinFailure.ENTITIES) {
            for (String cause : TwinFailure.CAUSES) {
                restarts.labelValues(entity, cause); // every series exists from the start, at 0
            }
        }
        system.systemActorOf(Behaviors.<TwinFailure>setup(ctx -> {
            system.eventStream().tell(new EventStream.Subscribe<>(TwinFailure.class, ctx.getSelf()));
            return Behaviors.receiveMessage(f -> {
                restarts.labelValues(f.entity(), f.cause()).inc();
                return Behaviors.same();
            });
        }), "twin-restarts-metric", Props.empty());
    }
}
