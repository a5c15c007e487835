package io.drover.shard;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.drover.device.Device;
import io.drover.device.DeviceKey;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The typed facade every edge (HTTP, later MQTT) uses to talk to device twins; nothing outside
 * shard-config touches sharding. Each call completes with the entity's reply, or fails with a
 * {@code TimeoutException} after the configured ask timeout ({@link ShardedDeviceClient}).
 */
public interface DeviceClient {

    /**
     * The one place that asks a twin; every typed method goes through it. Decorators (metrics, test
     * doubles) implement it by calling the decorated client's {@code ask}.
     */
    CompletionStage<Device.Reply> ask(DeviceKey key, Function<ActorRef<Device.Reply>, Device.Command> command,
            Duration timeout);

    /** The configured ask timeout. */
    Duration askTimeout();

    default CompletionStage<Device.Reply> ask(DeviceKey key, Function<ActorRef<Device.Reply>, Device.Command> command) {
        return ask(key, command, askTimeout());
    }

    default CompletionStage<Device.Reply> register(
            DeviceKey key, String name, String type, List<String> labels, ObjectNode attributes) {
        return ask(key, r -> new Device.Register(name, type, labels, attributes, r));
    }

    default CompletionStage<Device.Reply> get(DeviceKey key) {
        return ask(key, Device.Get::new);
    }

    default CompletionStage<Device.Reply> updateMetadata(
            DeviceKey key, String name, String type, List<String> labels, ObjectNode attributes) {
        return ask(key, r -> new Device.UpdateMetadata(name, type, labels, attributes, r));
    }

    default CompletionStage<Device.Reply> rotateCredentials(DeviceKey key) {
        return ask(key, Device.RotateCredentials::new);
    }

    default CompletionStage<Device.Reply> setCertificate(DeviceKey key, String fingerprint) {
        return ask(key, r -> new Device.SetCertificate(fingerprint, r));
    }

    default CompletionStage<Device.Reply> suspend(DeviceKey key) {
        return ask(key, Device.Suspend::new);
    }

    default CompletionStage<Device.Reply> activate(DeviceKey key) {
        return ask(key, Device.Activate::new);
    }

    default CompletionStage<Device.Reply> decommission(DeviceKey key) {
        return ask(key, Device.Decommission::new);
    }

    default CompletionStage<Device.Reply> getShadow(DeviceKey key) {
        return ask(key, Device.GetShadow::new);
    }

    default CompletionStage<Device.Reply> updateDesired(DeviceKey key, ObjectNode patch, Optional<Long> expectedVersion) {
        return ask(key, r -> new Device.UpdateDesired(patch, expectedVersion, r));
    }

    default CompletionStage<Device.Reply> updateReported(DeviceKey key, ObjectNode patch, Optional<Long> expectedVersion) {
        return ask(key, r -> new Device.UpdateReported(patch, expectedVersion, r));
    }
}
