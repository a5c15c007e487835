package io.drover.node;

import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/** The node's own metrics: the cluster members it sees, by status (read at scrape time). */
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
    }
}
