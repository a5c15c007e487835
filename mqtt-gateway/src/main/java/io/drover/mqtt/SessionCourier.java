package io.drover.mqtt;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.hivemq.extension.sdk.api.services.Services;
import com.hivemq.extension.sdk.api.services.publish.PublishToClientResult;
import io.drover.device.Device;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * This node's address for the twins: they send {@link Device.Outbound} messages here for devices whose
 * MQTT session this node holds. A desired delta goes to the device's session; if the device has not
 * subscribed yet (it just connected), it is tried again a few times. A kick disconnects the session.
 */
final class SessionCourier {

    private static final List<Duration> RETRIES = List.of(Duration.ofMillis(100), Duration.ofMillis(300),
            Duration.ofSeconds(1), Duration.ofSeconds(2));

    private sealed interface Msg {}

    private record FromTwin(Device.Outbound message) implements Msg {}

    private record Attempt(Device.PushDesired push, int attempt) implements Msg {}

    private record Published(Device.PushDesired push, int attempt, PublishToClientResult result, Throwable error) implements Msg {}

    private SessionCourier() {}

    static Behavior<Device.Outbound> create(MqttMetrics metrics) {
        Behavior<Msg> inner = Behaviors.<Msg>setup(ctx -> Behaviors.withTimers(timers -> Behaviors.receive(Msg.class)
                .onMessage(FromTwin.class, m -> {
                    if (m.message() instanceof Device.PushDesired p) {
                        ctx.getSelf().tell(new Attempt(p, 0));
                    } else if (m.message() instanceof Device.Kick k) {
                        metrics.message("kick", k.reason());
                        Services.clientService().disconnectClient(k.key().entityId());
                    }
                    return Behaviors.same();
                })
                .onMessage(Attempt.class, a -> {
                    ObjectNode body = Outbound.JSON.createObjectNode();
                    body.put("version", a.push().version());
                    body.set("delta", a.push().delta());
                    ctx.pipeToSelf(Outbound.send(a.push().key().entityId(), Topics.shadowDesired(a.push().key().deviceId()), body),
                            (r, e) -> new Published(a.push(), a.attempt(), r, e));
                    return Behaviors.same();
                })
                .onMessage(Published.class, p -> {
                    if (p.error() == null && p.result() == PublishToClientResult.NOT_SUBSCRIBED && p.attempt() < RETRIES.size()) {
                        timers.startSingleTimer(new Attempt(p.push(), p.attempt() + 1), RETRIES.get(p.attempt()));
                    } else {
                        metrics.message("shadow_desired_push", p.error() != null ? "failed"
                                : p.result() == PublishToClientResult.SUCCESSFUL ? "ok" : "not-subscribed");
                    }
                    return Behaviors.same();
                })
                .build()));
        return Behaviors.transformMessages(Device.Outbound.class, inner,
                pf -> pf.match(Device.Outbound.class, FromTwin::new));
    }
}
