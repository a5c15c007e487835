package io.drover.shard;

import io.drover.device.Device;
import io.drover.device.DeviceKey;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/** {@link DeviceClient} over Cluster Sharding, with the ask timeout from config. */
public final class ShardedDeviceClient implements DeviceClient {

    private final ClusterSharding sharding;
    private final Duration timeout;

    public ShardedDeviceClient(ClusterSharding sharding, Duration timeout) {
        this.sharding = sharding;
        this.timeout = timeout;
    }

    @Override
    public CompletionStage<Device.Reply> ask(DeviceKey key, Function<ActorRef<Device.Reply>, Device.Command> command,
            Duration timeout) {
        return Stages.direct(sharding.entityRefFor(Device.ENTITY_TYPE_KEY, key.entityId()).ask(command::apply, timeout));
    }

    @Override
    public Duration askTimeout() {
        return timeout;
    }
}
