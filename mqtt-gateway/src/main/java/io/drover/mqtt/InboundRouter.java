package io.drover.mqtt;

import com.fasterxml.jackson.databind.JsonNode;
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
import io.drover.telemetry.TelemetryCodec;
import io.drover.telemetry.TelemetryIngest;
import java.nio.ByteBuffer;
import java.time.Instant;
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

    /** The effect of a message: done, or refused with a code sent to the device. */
    private record Outcome(String code, String detail) {
        static final Outcome OK = new Outcome("ok", null);

        boolean ok() {
            return this == OK;
        }
    }

    private final DeviceClient devices;
    private final TelemetryIngest telemetry;
    private final MqttSettings settings;
    private final MqttMetrics metrics;
    private final SeenTracker seen;

    InboundRouter(DeviceClient devices, TelemetryIngest telemetry, MqttSettings settings, MqttMetrics metrics,
            SeenTracker seen) {
        this.seen = seen;
        this.devices = devices;
        this.telemetry = telemetry;
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
        CompletionStage<Outcome> work;
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
                String code = cause instanceof TelemetryIngest.Overloaded ? "overloaded" : "not-durable";
                metrics.message(routeName, code);
                output.preventPublishDelivery(AckReasonCode.UNSPECIFIED_ERROR, code);
            }
            async.resume();
        });
    }

    private CompletionStage<Outcome> handle(String clientId, DeviceKey key, String topic, Topics.Route route, byte[] payload) {
        switch (route.kind()) {
            case TELEMETRY: {
                TelemetryCodec.Result r = telemetry.codec().decode(key, payload, Instant.now());
                if (r instanceof TelemetryCodec.Invalid bad) {
                    return CompletableFuture.completedFuture(refused(bad.code(), bad.detail()));
                }
                return telemetry.submit(((TelemetryCodec.Samples) r).samples()).thenApply(x -> Outcome.OK);
            }
            case SHADOW_REPORTED: {
                Optional<ObjectNode> patch = Outbound.jsonObject(payload);
                if (patch.isEmpty()) {
                    return CompletableFuture.completedFuture(refused("malformed-json",
                            "a reported shadow update is a JSON object (merge patch)"));
                }
                if (payload.length > settings.maxPayloadBytes()) {
                    return CompletableFuture.completedFuture(refused("payload-too-large",
                            "the payload is larger than " + settings.maxPayloadBytes() + " bytes"));
                }
                return devices.updateReported(key, patch.get(), Optional.empty()).thenApply(reply -> {
                    if (reply instanceof Device.Rejected rej) {
                        return refused(rej.code().name().toLowerCase().replace('_', '-'), rej.message());
                    }
                    return Outcome.OK;
                });
            }
            case SHADOW_GET:
                return devices.getShadow(key).thenCompose(reply -> {
                    if (reply instanceof Device.ShadowDetails s) {
                        ObjectNode body = Outbound.JSON.createObjectNode();
                        body.put("version", s.shadow().version());
                        body.set("desired", s.shadow().desired());
                        body.set("reported", s.shadow().reported());
                        body.set("delta", s.shadow().delta());
                        return Outbound.send(clientId, Topics.shadowGetAccepted(key.deviceId()), body)
                                .thenApply(x -> Outcome.OK);
                    }
                    return CompletableFuture.completedFuture(refused("shadow-unavailable",
                            reply instanceof Device.Rejected r ? r.message() : "no shadow"));
                });
            case COMMAND_RESPONSE: {
                Optional<ObjectNode> response = Outbound.jsonObject(payload);
                if (response.isEmpty()) {
                    return CompletableFuture.completedFuture(refused("malformed-json",
                            "a command response is a JSON object"));
                }
                String id = route.commandId().orElseThrow();
                return devices.ask(key, r -> new Device.RecordCommandResponse(id, response.get(), Instant.now(), r))
                        .thenApply(reply -> reply instanceof Device.Rejected rej
                                ? refused("unknown-command", rej.message()) : Outcome.OK);
            }
            default:
                return CompletableFuture.completedFuture(refused("not-supported-yet",
                        "this node does not process " + topic + " yet"));
        }
    }

    private static Outcome refused(String code, String detail) {
        return new Outcome(code, detail);
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer ro = b.asReadOnlyBuffer();
        byte[] out = new byte[ro.remaining()];
        ro.get(out);
        return out;
    }
}
