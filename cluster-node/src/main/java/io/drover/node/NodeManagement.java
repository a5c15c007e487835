package io.drover.node;

import com.typesafe.config.Config;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pekko Management on its own port (cluster HTTP routes, {@code /health/ready}, {@code /health/alive}) and,
 * when no static seeds are configured, Cluster Bootstrap: config discovery for a local cluster or compose,
 * Kubernetes API discovery in k8s (docs/cluster.md). Off in dev mode, which joins itself.
 */
final class NodeManagement {

    private static final Logger log = LoggerFactory.getLogger(NodeManagement.class);

    private NodeManagement() {}

    static void start(ActorSystem<?> system) throws Exception {
        Config c = system.settings().config();
        if (!c.getBoolean("drover.node.management.enabled")) {
            return;
        }
        var uri = PekkoManagement.get(system.classicSystem()).start().toCompletableFuture()
                .get(30, java.util.concurrent.TimeUnit.SECONDS);
        log.info("Pekko Management on {}", uri);
        if (c.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
            log.info("Joining through Cluster Bootstrap ({} discovery of service {}, {} contact points needed)",
                    c.getString("pekko.management.cluster.bootstrap.contact-point-discovery.discovery-method"),
                    c.getString("pekko.management.cluster.bootstrap.contact-point-discovery.service-name"),
                    c.getInt("pekko.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr"));
            ClusterBootstrap.get(system.classicSystem()).start();
        }
    }
}
