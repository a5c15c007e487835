package io.drover.shard;

import io.drover.device.Device;
import io.drover.device.DeviceKey;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * {@link DeviceClient} over Cluster Sharding, with the ask timeout from config. An id whose twin answered "not found"
 * is remembered ({@code drover.shard-config.unknown-devices}): asks for it — all but a registration, which is what
 * can make it exist — are answered the same from memory for the TTL, so guessed ids (an MQTT CONNECT, a device-API
 * call, a WebSocket subscribe) wake no twin and read no journal while remembered.
 */
public final class ShardedDeviceClient implements DeviceClient {

    private final ClusterSharding sharding;
    private final Duration timeout;
    private final BoundedCache<DeviceKey, Device.Rejected> unknown;
    private final ActorRef<Device.Reply> nobody;

    public ShardedDeviceClient(ActorSystem<?> system, ClusterSharding sharding, ShardSettings settings) {
        this.sharding = sharding;
        this.timeout = settings.askTimeout();
        this.unknown = new BoundedCache<>(settings.unknownDevices(), settings.unknownDeviceTtl());
        this.nobody = system.ignoreRef();
    }

    @Override
    public CompletionStage<Device.Reply> ask(DeviceKey key, Function<ActorRef<Device.Reply>, Device.Command> command,
            Duration timeout) {
        var known = unknown.get(key);
        if (known.isPresent() && !(command.apply(nobody) instanceof Device.Register)) {
            return CompletableFuture.completedFuture(known.get());
        }
        return Stages.direct(sharding.entityRefFor(Device.ENTITY_TYPE_KEY, key.entityId()).ask(command::apply, timeout))
                .thenApply(reply -> {
                    if (reply instanceof Device.Rejected r && r.code() == Device.Rejection.NOT_FOUND) {
                        unknown.put(key, r);
                    } else if (known.isPresent()) {
                        unknown.invalidate(key); // registered through this node
                    }
                    return reply;
                });
    }

    @Override
    public Duration askTimeout() {
        return timeout;
    }
}
