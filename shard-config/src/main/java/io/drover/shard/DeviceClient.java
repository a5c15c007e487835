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
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The typed facade every edge (HTTP, later MQTT) uses to talk to device twins; nothing outside
 * shard-config touches sharding. Each call asks the device's entity with the configured timeout
 * and completes with the entity's reply, or fails with a {@code TimeoutException}.
 */
public class DeviceClient {

    private final ClusterSharding sharding;
    private final Duration timeout;

    public DeviceClient(ClusterSharding sharding, Duration timeout) {
        this.sharding = sharding;
        this.timeout = timeout;
    }

    /** The one place that asks; subclasses (tests, decorators) override it to intercept every call. */
    protected CompletionStage<Device.Reply> ask(DeviceKey key, Function<ActorRef<Device.Reply>, Device.Command> command) {
        return askFor(key, command);
    }

    /** Asks the entity directly (what {@link #ask} does unless overridden). */
    public final CompletionStage<Device.Reply> askFor(
            DeviceKey key, Function<ActorRef<Device.Reply>, Device.Command> command) {
        return sharding.entityRefFor(Device.ENTITY_TYPE_KEY, key.entityId()).ask(command::apply, timeout);
    }

    public CompletionStage<Device.Reply> register(
            DeviceKey key, String name, String type, List<String> labels, ObjectNode attributes) {
        return ask(key, r -> new Device.Register(name, type, labels, attributes, r));
    }

    public CompletionStage<Device.Reply> get(DeviceKey key) {
        return ask(key, Device.Get::new);
    }

    public CompletionStage<Device.Reply> updateMetadata(
            DeviceKey key, String name, String type, List<String> labels, ObjectNode attributes) {
        return ask(key, r -> new Device.UpdateMetadata(name, type, labels, attributes, r));
    }

    public CompletionStage<Device.Reply> rotateCredentials(DeviceKey key) {
        return ask(key, Device.RotateCredentials::new);
    }

    public CompletionStage<Device.Reply> suspend(DeviceKey key) {
        return ask(key, Device.Suspend::new);
    }

    public CompletionStage<Device.Reply> activate(DeviceKey key) {
        return ask(key, Device.Activate::new);
    }

    public CompletionStage<Device.Reply> decommission(DeviceKey key) {
        return ask(key, Device.Decommission::new);
    }

    public CompletionStage<Device.Reply> getShadow(DeviceKey key) {
        return ask(key, Device.GetShadow::new);
    }

    public CompletionStage<Device.Reply> updateDesired(DeviceKey key, ObjectNode patch, Optional<Long> expectedVersion) {
        return ask(key, r -> new Device.UpdateDesired(patch, expectedVersion, r));
    }

    public CompletionStage<Device.Reply> updateReported(DeviceKey key, ObjectNode patch, Optional<Long> expectedVersion) {
        return ask(key, r -> new Device.UpdateReported(patch, expectedVersion, r));
    }
}
