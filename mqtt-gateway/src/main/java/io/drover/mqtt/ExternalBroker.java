package io.drover.mqtt;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.shard.BoundedCache;
import io.drover.shard.DeviceClient;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.RestartSettings;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.connectors.mqtt.MqttConnectionSettings;
import org.apache.pekko.stream.connectors.mqtt.MqttMessage;
import org.apache.pekko.stream.connectors.mqtt.MqttQoS;
import org.apache.pekko.stream.connectors.mqtt.MqttSubscriptions;
import org.apache.pekko.stream.connectors.mqtt.javadsl.MqttMessageWithAck;
import org.apache.pekko.stream.connectors.mqtt.javadsl.MqttSink;
import org.apache.pekko.stream.connectors.mqtt.javadsl.MqttSource;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.RestartSource;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ingest from an external broker (Debian's Mosquitto in the tests) through Pekko Connectors MQTT.
 * Drover holds a persistent session (clean session off, a client id stable per node) with a shared
 * subscription, so N nodes split the devices' messages, and acknowledges each message to the broker
 * only after its effect is durable: a node that dies leaves its unacknowledged messages with the broker,
 * which delivers them again. The device's own PUBACK comes from the broker, so end-to-end durability
 * here rests on the broker keeping queued messages (Mosquitto: {@code persistence true}).
 *
 * <p>Topics are tenant-qualified ({@code devices/{tenantId}:{deviceId}/…}) because an external broker
 * routes by topic alone. A failed write fails the element; the source restarts with backoff and the
 * broker redelivers what was not acknowledged. Bad input is acknowledged and answered on the device's
 * error topic.
 */
final class ExternalBroker {

    private static final Logger log = LoggerFactory.getLogger(ExternalBroker.class);

    private final DeviceMessages messages;
    private final MqttMetrics metrics;
    private final BoundedSourceQueue<MqttMessage> outbound;
    private final DeviceClient devices;
    /** Devices their twins said may send (provisioned, active), for 5 s; ids that named no device, for 10 s. */
    private final BoundedCache<DeviceKey, Device.Lifecycle> lifecycles = new BoundedCache<>(100_000, Duration.ofSeconds(5));
    private final BoundedCache<DeviceKey, Boolean> unknown = new BoundedCache<>(100_000, Duration.ofSeconds(10));

    private ExternalBroker(DeviceClient devices, DeviceMessages messages, MqttMetrics metrics,
            BoundedSourceQueue<MqttMessage> outbound) {
        this.devices = devices;
        this.messages = messages;
        this.metrics = metrics;
        this.outbound = outbound;
    }

    /** Starts the ingest; completes once the first subscription is in place (messages are then kept for us). */
    static CompletionStage<Done> start(ActorSystem<?> system, MqttSettings.External s, String nodeId,
            DeviceClient devices, DeviceMessages messages, MqttMetrics metrics) {
        CompletableFuture<Done> subscribed = new CompletableFuture<>();
        String clientId = s.clientId().isEmpty() ? "drover-" + nodeId : s.clientId();
        MqttConnectionSettings in = connection(s, clientId).withCleanSession(false);
        MqttConnectionSettings out = connection(s, clientId + "-out");
        BoundedSourceQueue<MqttMessage> outQueue = Source.<MqttMessage>queue(s.bufferSize())
                .to(MqttSink.create(out, MqttQoS.atLeastOnce())).run(system);
        ExternalBroker broker = new ExternalBroker(devices, messages, metrics, outQueue);
        String share = "$share/" + s.sharedGroup() + "/";
        MqttSubscriptions subscriptions = MqttSubscriptions.create(List.of(
                Pair.create(share + "devices/+/telemetry", MqttQoS.atLeastOnce()),
                Pair.create(share + "devices/+/shadow/reported", MqttQoS.atLeastOnce())));
        RestartSettings restart = RestartSettings.create(Duration.ofSeconds(1), Duration.ofSeconds(30), 0.2);
        Pair<UniqueKillSwitch, CompletionStage<Done>> run = RestartSource.withBackoff(restart,
                        () -> MqttSource.atLeastOnce(in, subscriptions, s.bufferSize())
                                .mapMaterializedValue(ready -> ready.thenAccept(subscribed::complete))
                                .mapAsync(s.parallelism(), m -> broker.handle(m).thenCompose(x -> m.ack())))
                .viaMat(KillSwitches.single(), Keep.right())
                .toMat(Sink.ignore(), Keep.both())
                .run(system);
        CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceUnbind(), "mqtt-external-stop", () -> {
            run.first().shutdown();
            outQueue.complete();
            return CompletableFuture.completedFuture(Done.getInstance());
        });
        log.info("Ingesting from external broker {} as {} (shared group {})", s.url(), clientId, s.sharedGroup());
        return subscribed;
    }

    private static MqttConnectionSettings connection(MqttSettings.External s, String clientId) {
        MqttConnectionSettings c = MqttConnectionSettings.create(s.url(), clientId, new MemoryPersistence())
                .withAutomaticReconnect(true).withMaxInFlight(1000);
        return s.username().isEmpty() ? c : c.withAuth(s.username(), s.password());
    }

    /** Completes when the message's effect is durable (then it is acknowledged to the broker). */
    private CompletionStage<Done> handle(MqttMessageWithAck m) {
        String topic = m.message().topic();
        String[] parts = topic.split("/", 3);
        Optional<DeviceKey> key = parts.length == 3 && parts[0].equals("devices")
                ? DeviceIdentity.fromClientId(parts[1]) : Optional.empty();
        if (key.isEmpty()) {
            metrics.message("external", "unknown-topic");
            return CompletableFuture.completedFuture(Done.getInstance());
        }
        byte[] payload = m.message().payload().toArray();
        String route = parts[2].equals("telemetry") ? "telemetry" : "shadow_reported";
        CompletionStage<DeviceMessages.Outcome> work = refusal(key.get()).thenCompose(refused -> refused.isPresent()
                ? CompletableFuture.completedFuture(refused.get())
                : route.equals("telemetry") ? messages.telemetry(key.get(), payload) : messages.reported(key.get(), payload));
        return work.thenApply(outcome -> {
            metrics.message(route, outcome.code());
            if (!outcome.ok()) {
                error(key.get(), topic, outcome.code(), outcome.detail());
            }
            return Done.getInstance();
        });
    }

    /**
     * The embedded broker checks a device at CONNECT; an external broker authenticates devices itself, so each
     * message is checked against the twin here (cached, see the fields): an unknown, suspended or decommissioned
     * device's messages are refused (and answered on its error topic), not stored. A suspension reaches this node
     * within 5 s.
     */
    private CompletionStage<Optional<DeviceMessages.Outcome>> refusal(DeviceKey key) {
        Optional<Device.Lifecycle> known = lifecycles.get(key);
        if (known.isPresent()) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        if (unknown.get(key).isPresent()) {
            return CompletableFuture.completedFuture(Optional.of(new DeviceMessages.Outcome("unknown-device",
                    "no device " + key.deviceId() + " in tenant " + key.tenantId())));
        }
        return devices.get(key).thenApply(reply -> {
            if (reply instanceof Device.DeviceDetails d) {
                Device.Lifecycle l = d.device().lifecycle();
                if (l == Device.Lifecycle.PROVISIONED || l == Device.Lifecycle.ACTIVE) {
                    lifecycles.put(key, l);
                    return Optional.<DeviceMessages.Outcome>empty();
                }
                return Optional.of(new DeviceMessages.Outcome("device-not-active",
                        "the device is " + l.name().toLowerCase()));
            }
            if (reply instanceof Device.Rejected r && r.code() == Device.Rejection.DECOMMISSIONED) {
                return Optional.of(new DeviceMessages.Outcome("device-not-active", "the device is decommissioned"));
            }
            unknown.put(key, Boolean.TRUE);
            return Optional.of(new DeviceMessages.Outcome("unknown-device",
                    "no device " + key.deviceId() + " in tenant " + key.tenantId()));
        });
    }

    /** Why a message was not taken, on {@code devices/{tenant}:{device}/errors}. */
    private void error(DeviceKey key, String topic, String code, String detail) {
        ObjectNode body = Outbound.errorBody(topic, code, detail);
        try {
            outbound.offer(MqttMessage.create("devices/" + key.entityId() + "/errors",
                    ByteString.fromArray(Outbound.JSON.writeValueAsBytes(body))).withQos(MqttQoS.atLeastOnce()));
        } catch (Exception e) {
            log.warn("could not queue an error message for {}: {}", key, e.toString());
        }
    }
}
