package io.drover.mqtt;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.hivemq.extension.sdk.api.services.Services;
import com.hivemq.extension.sdk.api.services.publish.PublishToClientResult;
import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.shard.DeviceClient;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * This node's address for the twins: they send {@link Device.Outbound} messages here for devices whose
 * MQTT session this node holds. A desired delta or a command goes to the device's session; if the device
 * has not subscribed yet (it just connected), it is tried again a few times. The twin learns whether a
 * command was handed over. A kick disconnects the session.
 */
final class SessionCourier {

    private static final List<Duration> RETRIES = List.of(Duration.ofMillis(100), Duration.ofMillis(300),
            Duration.ofSeconds(1), Duration.ofSeconds(2));

    private sealed interface Msg {}

    private record FromTwin(Device.Outbound message) implements Msg {}

    /** One delivery attempt of a desired delta or a command to the device's session. */
    private record Attempt(Device.Outbound message, int attempt) implements Msg {}

    private record Published(Device.Outbound message, int attempt, PublishToClientResult result, Throwable error)
            implements Msg {}

    private SessionCourier() {}

    static Behavior<Device.Outbound> create(MqttMetrics metrics, DeviceClient devices) {
        Behavior<Msg> inner = Behaviors.<Msg>setup(ctx -> Behaviors.withTimers(timers -> {
            // commands being handed over right now: a second request for the same one (the twin asks again
            // when the device subscribes) is not sent twice. Actor-confined; bounded by the retries.
            Set<String> deliveries = new HashSet<>();
            return Behaviors.receive(Msg.class)
                .onMessage(FromTwin.class, m -> {
                    if (m.message() instanceof Device.DeliverCommand d) {
                        if (deliveries.add(d.key().entityId() + "/" + d.command().id())) {
                            ctx.getSelf().tell(new Attempt(d, 0));
                        }
                    } else if (m.message() instanceof Device.PushDesired || m.message() instanceof Device.Notification) {
                        ctx.getSelf().tell(new Attempt(m.message(), 0));
                    } else if (m.message() instanceof Device.Kick k) {
                        metrics.message("kick", k.reason());
                        Services.clientService().disconnectClient(k.key().entityId());
                    }
                    return Behaviors.same();
                })
                .onMessage(Attempt.class, a -> {
                    DeviceKey key = a.message().key();
                    ObjectNode body = Outbound.JSON.createObjectNode();
                    String topic;
                    if (a.message() instanceof Device.PushDesired p) {
                        topic = Topics.shadowDesired(key.deviceId());
                        body.put("version", p.version());
                        body.set("delta", p.delta());
                    } else if (a.message() instanceof Device.Notification n) {
                        topic = Topics.notifications(key.deviceId());
                        body = n.body();
                    } else {
                        Device.CommandRecord c = ((Device.DeliverCommand) a.message()).command();
                        topic = Topics.command(key.deviceId(), c.id());
                        body.put("id", c.id());
                        body.put("name", c.name());
                        body.set("params", c.params());
                        body.put("twoWay", c.twoWay());
                        body.put("expiresAt", c.expiresAt().toString());
                    }
                    ctx.pipeToSelf(Outbound.send(key.entityId(), topic, body),
                            (r, e) -> new Published(a.message(), a.attempt(), r, e));
                    return Behaviors.same();
                })
                .onMessage(Published.class, p -> {
                    if (p.error() == null && p.result() == PublishToClientResult.NOT_SUBSCRIBED && p.attempt() < RETRIES.size()) {
                        timers.startSingleTimer(new Attempt(p.message(), p.attempt() + 1), RETRIES.get(p.attempt()));
                        return Behaviors.same();
                    }
                    boolean ok = p.error() == null && p.result() == PublishToClientResult.SUCCESSFUL;
                    String outcome = p.error() != null ? "failed" : ok ? "ok" : "not-subscribed";
                    if (p.message() instanceof Device.DeliverCommand d) {
                        deliveries.remove(d.key().entityId() + "/" + d.command().id());
                        metrics.message("command_delivery", outcome);
                        String reason = ok ? null : p.error() != null ? "delivery failed" : "device is not subscribed to its commands";
                        devices.ask(d.key(), r -> new Device.RecordCommandDelivery(d.command().id(), ok, reason,
                                java.time.Instant.now(), r));
                    } else if (p.message() instanceof Device.Notification) {
                        metrics.message("rule_notification", outcome);
                    } else {
                        metrics.message("shadow_desired_push", outcome);
                    }
                    return Behaviors.same();
                })
                .build();
        }));
        return Behaviors.transformMessages(Device.Outbound.class, inner,
                pf -> pf.match(Device.Outbound.class, FromTwin::new));
    }
}
