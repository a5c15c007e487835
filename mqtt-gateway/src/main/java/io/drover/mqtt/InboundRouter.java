package io.drover.mqtt;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.hivemq.extension.sdk.api.async.Async;
import com.hivemq.extension.sdk.api.async.TimeoutFallback;
import com.hivemq.extension.sdk.api.interceptor.publish.PublishInboundInterceptor;
import com.hivemq.extension.sdk.api.interceptor.publish.parameter.PublishInboundInput;
import com.hivemq.extension.sdk.api.interceptor.publish.parameter.PublishInboundOutput;
import com.hivemq.extension.sdk.api.packets.publish.AckReasonCode;
import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.shard.DeviceClient;
import io.drover.telemetry.TelemetryHub;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Every device PUBLISH on its own topics passes here, inside the embedded broker, and is held
 * (asynchronously) until its effect is durable: telemetry written to Cassandra, a reported shadow
 * persisted in the twin's journal. Only then does the device get its PUBACK. If that fails or takes
 * longer than {@code ingest-timeout}, an MQTT 3 device is disconnected without PUBACK and an MQTT 5
 * device gets an error PUBACK, so an acknowledged message is always durable (DESIGN.md §2.1).
 *
 * <p>Bad input is taken (acknowledged, so the device does not send it forever) and answered on
 * {@code devices/{id}/errors} with a stable code, and counted. Messages are never routed onward by
 * the broker. Topics outside the device's own tree are left to {@link DeviceAuthorizer}, which
 * refuses them.
 */
final class InboundRouter implements PublishInboundInterceptor {

    private final DeviceClient devices;
    private final DeviceMessages messages;
    private final MqttSettings settings;
    private final MqttMetrics metrics;
    private final SeenTracker seen;

    InboundRouter(DeviceClient devices, DeviceMessages messages, MqttSettings settings, MqttMetrics metrics,
            SeenTracker seen) {
        this.seen = seen;
        this.devices = devices;
        this.messages = messages;
        this.settings = settings;
        this.metrics = metrics;
    }

    @Override
    public void onInboundPublish(PublishInboundInput input, PublishInboundOutput output) {
        String clientId = input.getClientInformation().getClientId();
        Optional<DeviceKey> key = DeviceIdentity.fromClientId(clientId);
        String topic = input.getPublishPacket().getTopic();
        Optional<Topics.Route> route = key.flatMap(k -> Topics.inbound(k.deviceId(), topic));
        if (route.isEmpty()) {
            return; // not a device topic of this client: the authorizer refuses it
        }
        long t0 = System.nanoTime();
        seen.seen(key.get());
        byte[] payload = input.getPublishPacket().getPayload().map(InboundRouter::bytes).orElse(new byte[0]);
        String routeName = route.get().kind().name().toLowerCase();
        Async<PublishInboundOutput> async = output.async(settings.ingestTimeout(), TimeoutFallback.FAILURE,
                AckReasonCode.UNSPECIFIED_ERROR, "not durable within " + settings.ingestTimeout());
        CompletionStage<DeviceMessages.Outcome> work;
        try {
            work = handle(clientId, key.get(), topic, route.get(), payload);
        } catch (RuntimeException e) {
            work = CompletableFuture.failedFuture(e);
        }
        work.whenComplete((outcome, err) -> {
            if (err == null) {
                metrics.message(routeName, outcome.code());
                metrics.ingested(routeName, System.nanoTime() - t0);
                if (!outcome.ok()) {
                    Outbound.error(clientId, key.get().deviceId(), topic, outcome.code(), outcome.detail());
                }
                output.preventPublishDelivery(); // acknowledged, not routed onward
            } else {
                Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                        ? err.getCause() : err;
                String code = cause instanceof TelemetryHub.Overloaded ? "overloaded" : "not-durable";
                metrics.message(routeName, code);
                output.preventPublishDelivery(AckReasonCode.UNSPECIFIED_ERROR, code);
            }
            async.resume();
        });
    }

    private CompletionStage<DeviceMessages.Outcome> handle(String clientId, DeviceKey key, String topic, Topics.Route route, byte[] payload) {
        switch (route.kind()) {
            case TELEMETRY:
                return messages.telemetry(key, payload);
            case SHADOW_REPORTED:
                return messages.reported(key, payload);
            case SHADOW_GET:
                return devices.getShadow(key).thenCompose(reply -> {
                    if (reply instanceof Device.ShadowDetails s) {
                        ObjectNode body = Outbound.JSON.createObjectNode();
                        body.put("version", s.shadow().version());
                        body.set("desired", s.shadow().desired());
                        body.set("reported", s.shadow().reported());
                        body.set("delta", s.shadow().delta());
                        return Outbound.send(clientId, Topics.shadowGetAccepted(key.deviceId()), body)
                                .thenApply(x -> DeviceMessages.Outcome.OK);
                    }
                    return DeviceMessages.refused("shadow-unavailable",
                            reply instanceof Device.Rejected r ? r.message() : "no shadow");
                });
            case COMMAND_RESPONSE:
                return messages.commandResponse(key, route.commandId().orElseThrow(), payload);
            default:
                return DeviceMessages.refused("not-supported-yet", "this node does not process " + topic + " yet");
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer ro = b.asReadOnlyBuffer();
        byte[] out = new byte[ro.remaining()];
        ro.get(out);
        return out;
    }
}
