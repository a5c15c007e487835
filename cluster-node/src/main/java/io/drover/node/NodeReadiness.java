package io.drover.node;

import io.drover.http.HealthRoutes;
import io.drover.persistence.DroverPersistence;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Whether this node may take traffic: the start-up work is done (schema, sharding, edges, and in dev or local
 * cluster mode the admin key file and dev fleet), this member is Up, Cassandra answers and the MQTT listener
 * accepts. It turns false first thing at shutdown, before any listener stops. Served on {@code /health/ready}
 * of the HTTP API and of Pekko Management (which adds its own membership and sharding checks).
 */
public final class NodeReadiness implements Extension, HealthRoutes.Readiness {

    public static final ExtensionId<NodeReadiness> ID = new ExtensionId<>() {
        @Override
        public NodeReadiness createExtension(ActorSystem<?> system) {
            return new NodeReadiness(system);
        }
    };

    public static NodeReadiness get(ActorSystem<?> system) {
        return system.registerExtension(ID); // the existing one when already registered
    }

    private final ActorSystem<?> system;
    private final Duration timeout;
    private volatile DroverPersistence persistence;
    private volatile InetSocketAddress mqtt;
    private volatile boolean started;
    private volatile boolean stopping;

    private NodeReadiness(ActorSystem<?> system) {
        this.system = system;
        this.timeout = system.settings().config().getDuration("drover.node.readiness-timeout");
        CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "drover-not-ready", () -> {
            stopping = true;
            return CompletableFuture.completedFuture(Done.getInstance());
        });
    }

    void persistence(DroverPersistence p) {
        this.persistence = p;
    }

    /** The embedded broker's listener, when this node runs one. */
    void mqttListener(InetSocketAddress address) {
        this.mqtt = address;
    }

    /** Everything this node does at start-up is done. */
    void started() {
        this.started = true;
    }

    @Override
    public CompletionStage<Map<String, Boolean>> check() {
        Map<String, Boolean> c = new LinkedHashMap<>();
        c.put("started", started && !stopping);
        c.put("cluster-member-up", Cluster.get(system).selfMember().status() == MemberStatus.up());
        InetSocketAddress m = mqtt;
        if (m != null) {
            c.put("mqtt-listener", accepts(m));
        }
        DroverPersistence p = persistence;
        if (p == null) {
            c.put("cassandra", false);
            return CompletableFuture.completedFuture(c);
        }
        return p.ready(timeout).thenApply(ok -> {
            c.put("cassandra", ok);
            return c;
        });
    }

    private boolean accepts(InetSocketAddress a) {
        try (Socket s = new Socket()) {
            s.connect(a, (int) timeout.toMillis());
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
