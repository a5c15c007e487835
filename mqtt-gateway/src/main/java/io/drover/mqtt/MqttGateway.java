package io.drover.mqtt;

import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.telemetry.TelemetryHub;
import io.drover.shard.ClusterSessionDirectory;
import io.drover.shard.DeviceClient;
import io.drover.shard.FailureLimiter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.typed.Cluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MQTT edge of a node: the embedded broker with Drover's extension and the telemetry ingest.
 * {@link #init} blocks until the broker listens (about a second); call it off the default dispatcher.
 * On shutdown the broker stops (no new messages) before the node drains the telemetry ingest.
 */
public final class MqttGateway {

    private static final Logger log = LoggerFactory.getLogger(MqttGateway.class);

    private final MqttSettings settings;

    private MqttGateway(MqttSettings settings) {
        this.settings = settings;
    }

    public MqttSettings settings() {
        return settings;
    }

    /** A device (re)subscribed to its desired topic: send it what it has not applied yet. */
    private static void catchUp(DeviceClient devices, ActorRef<Device.Outbound> courier, DeviceKey key) {
        devices.getShadow(key).thenAccept(reply -> {
            if (reply instanceof Device.ShadowDetails s && !s.shadow().delta().isEmpty()) {
                courier.tell(new Device.PushDesired(key, s.shadow().version(), s.shadow().delta()));
            }
        });
    }

    public static MqttGateway init(ActorSystem<?> system, DeviceClient devices, TelemetryHub ingest,
            PrometheusRegistry registry) throws Exception {
        MqttSettings settings = MqttSettings.fromConfig(system.settings().config());
        MqttMetrics metrics = new MqttMetrics(registry);
        DeviceMessages messages = new DeviceMessages(devices, ingest, settings.maxPayloadBytes());
        if (settings.external().enabled()) {
            var self = Cluster.get(system).selfMember().address();
            ExternalBroker.start(system, settings.external(),
                            self.host().getOrElse(() -> "local") + "-" + self.port().getOrElse(() -> 0), devices, messages,
                            metrics)
                    .toCompletableFuture().get(60, TimeUnit.SECONDS); // the node is not up before its subscription is
        }
        if (!settings.embeddedRuns()) {
            log.info("Embedded MQTT broker disabled");
            return new MqttGateway(settings);
        }
        ActorRef<Device.Outbound> courier = system.systemActorOf(SessionCourier.create(metrics, devices), "mqtt-session-courier",
                Props.empty());
        // twins find this node's courier through the Receptionist; sessions are recorded under the member's
        // unique address, so a restarted node's old sessions are known to be gone
        system.receptionist().tell(org.apache.pekko.actor.typed.receptionist.Receptionist.register(
                ClusterSessionDirectory.COURIER_KEY, courier));
        String node = ClusterSessionDirectory.selfNode(system);
        AuthCache cache = new AuthCache(devices, 100_000, java.time.Duration.ofMinutes(5), java.time.Duration.ofSeconds(10));
        ActorRef<Device.CredentialsChanged> invalidator = system.systemActorOf(
                Behaviors.receive(Device.CredentialsChanged.class)
                        .onMessage(Device.CredentialsChanged.class, m -> {
                            cache.invalidate(m.key());
                            return Behaviors.same();
                        }).build(),
                "mqtt-auth-cache-invalidator", Props.empty());
        system.systemActorOf(Topic.create(Device.CredentialsChanged.class, Device.CREDENTIALS_TOPIC),
                "device-credentials-subscriber", Props.empty()).tell(Topic.subscribe(invalidator));
        DroverExtension extension = new DroverExtension(
                new DeviceAuthenticator(cache, settings,
                        new FailureLimiter(FailureLimiter.Settings.fromConfig(system.settings().config())), metrics),
                new DeviceAuthorizer(metrics, key -> catchUp(devices, courier, key),
                        key -> devices.ask(key, Device.DeliverPending::new)),
                new InboundRouter(devices, messages, settings, metrics, new SeenTracker(devices)),
                new ConnectivityListener(devices, courier, node, metrics));
        EmbeddedBroker broker = new EmbeddedBroker(settings, extension);
        long t0 = System.nanoTime();
        broker.start().get(60, TimeUnit.SECONDS);
        log.info("MQTT broker listening on {}:{} ({} ms)", settings.bindAddress(), settings.port(),
                (System.nanoTime() - t0) / 1_000_000);
        CoordinatedShutdown cs = CoordinatedShutdown.get(system);
        cs.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "mqtt-broker-stop",
                () -> broker.stop().thenApply(x -> Done.getInstance()));
        return new MqttGateway(settings);
    }

}
