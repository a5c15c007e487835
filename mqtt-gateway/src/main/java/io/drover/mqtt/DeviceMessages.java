package io.drover.mqtt;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.drover.device.Device;
import io.drover.device.DeviceKey;
import io.drover.shard.DeviceClient;
import io.drover.telemetry.TelemetryCodec;
import io.drover.telemetry.TelemetryHub;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * What a device→platform message means, whichever broker it came through (embedded or external):
 * each method completes when the effect is durable, with {@link Outcome#OK} or a refusal code for the
 * device's error topic; it fails only when the effect could not be made durable (then the message is
 * not acknowledged and the device, or the broker, sends it again).
 */
final class DeviceMessages {

    /** The effect of a message: done, or refused with a stable code sent to the device. */
    record Outcome(String code, String detail) {
        static final Outcome OK = new Outcome("ok", null);

        boolean ok() {
            return this == OK;
        }
    }

    private final DeviceClient devices;
    private final TelemetryHub telemetry;
    private final int maxPayloadBytes;

    DeviceMessages(DeviceClient devices, TelemetryHub telemetry, int maxPayloadBytes) {
        this.devices = devices;
        this.telemetry = telemetry;
        this.maxPayloadBytes = maxPayloadBytes;
    }

    CompletionStage<Outcome> telemetry(DeviceKey key, byte[] payload) {
        TelemetryCodec.Result r = telemetry.codec().decode(key, payload, Instant.now());
        if (r instanceof TelemetryCodec.Invalid bad) {
            return refused(bad.code(), bad.detail());
        }
        var samples = ((TelemetryCodec.Samples) r).samples();
        return telemetry.admit(samples).thenCompose(bad -> bad.isPresent()
                ? refused(bad.get().code(), bad.get().detail())
                : telemetry.submit(samples).thenApply(x -> Outcome.OK));
    }

    CompletionStage<Outcome> reported(DeviceKey key, byte[] payload) {
        if (payload.length > maxPayloadBytes) {
            return refused("payload-too-large", "the payload is larger than " + maxPayloadBytes + " bytes");
        }
        Optional<ObjectNode> patch = Outbound.jsonObject(payload);
        if (patch.isEmpty()) {
            return refused("malformed-json", "a reported shadow update is a JSON object (merge patch)");
        }
        return devices.updateReported(key, patch.get(), Optional.empty()).thenApply(reply -> reply instanceof Device.Rejected rej
                ? new Outcome(rej.code().name().toLowerCase().replace('_', '-'), rej.message()) : Outcome.OK);
    }

    CompletionStage<Outcome> commandResponse(DeviceKey key, String commandId, byte[] payload) {
        Optional<ObjectNode> response = Outbound.jsonObject(payload);
        if (response.isEmpty()) {
            return refused("malformed-json", "a command response is a JSON object");
        }
        return devices.ask(key, r -> new Device.RecordCommandResponse(commandId, response.get(), Instant.now(), r))
                .thenApply(reply -> !(reply instanceof Device.Rejected rej) ? Outcome.OK
                        : rej.code() == Device.Rejection.INVALID_INPUT ? new Outcome("response-too-large", rej.message())
                        : new Outcome("unknown-command", rej.message()));
    }

    static CompletionStage<Outcome> refused(String code, String detail) {
        return CompletableFuture.completedFuture(new Outcome(code, detail));
    }
}
